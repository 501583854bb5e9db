/* image.h - internal glue to stb_image (detect/image/stb_impl.c). The public image API is in
 * include/ferc.h (ferc_image_*). */
#ifndef FERC_DETECT_IMAGE_IMAGE_H
#define FERC_DETECT_IMAGE_IMAGE_H

int ferc_stbi_info(const unsigned char *buf, int len, int *w, int *h, int *c);
unsigned char *ferc_stbi_load(const unsigned char *buf, int len, int *w, int *h, int channels);
const char *ferc_stbi_failure(void);
void ferc_stbi_free(void *p);
int ferc_stbi_write_png(const char *path, int w, int h, int c, const void *data);
int ferc_stbi_write_jpg(const char *path, int w, int h, int c, const void *data, int quality);

#endif
