#include "tools/cli/look.h"
int cli_trace(int argc, char **argv) { return 2; }
