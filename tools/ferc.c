/* ferc - the command. For now: load a model and run it on an input tensor file. */
#include "ferc.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("ferc %s (%s)\n", FERC_VERSION_STRING, ferc_isa_name());
    return 0;
}
