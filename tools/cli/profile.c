#include "tools/cli/look.h"
int cli_profile(int argc, char **argv) { return 2; }
