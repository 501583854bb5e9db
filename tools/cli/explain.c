#include "tools/cli/look.h"
int cli_explain(int argc, char **argv) { return 2; }
