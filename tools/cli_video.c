#include "tools/cli.h"
int cli_video(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "ferc video: not yet\n"); return 1; }
