/* video_pipeline.c - `ferc video`'s reader and detector threads over a ring of frame slots
 * (video.h). Each stage takes the slots in frame order, so output order is frame order. */
#include "tools/cli/video.h"

#include <stdlib.h>
#include <string.h>

enum { FREE, READ, DETECTED, END };

static video_slot *wait_for(video_pipeline *p, long frame, int state)
{
    video_slot *s = &p->slots[frame % VIDEO_SLOTS];
    pthread_mutex_lock(&p->mu);
    while (!p->stop && s->state != state && s->state != END) pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop) s = NULL;
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void set_state(video_pipeline *p, video_slot *s, int state)
{
    pthread_mutex_lock(&p->mu);
    s->state = state;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *reader(void *arg)
{
    video_pipeline *p = arg;
    for (long f = 0;; f++) {
        video_slot *s = wait_for(p, f, FREE);
        if (!s) return NULL;
        int eof = 0;
        memset(&s->err, 0, sizeof s->err);
        if (ferc_y4m_read(&p->y4m, s->raw, &eof, &s->err) || eof) {
            set_state(p, s, END);
            return NULL;
        }
        s->frame = f;
        ferc_y4m_to_image(&p->y4m, s->raw, &s->img);
        set_state(p, s, READ);
    }
}

static void *detector(void *arg)
{
    video_pipeline *p = arg;
    for (long f = 0;; f++) {
        video_slot *s = wait_for(p, f, READ);
        if (!s || s->state == END) return NULL;
        if (ferc_analyzer_detect(p->detect, &s->img, s->boxes, CLI_MAX_FACES, &s->n, &s->err)) {
            set_state(p, s, END);
            return NULL;
        }
        set_state(p, s, DETECTED);
    }
}

static void stop_threads(video_pipeline *p, int joined)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < joined; i++) pthread_join(p->th[i], NULL);
}

int video_pipeline_start(video_pipeline *p, ferc_analyzer *detect)
{
    p->detect = detect;
    const int ch = ferc_y4m_channels(&p->y4m);
    for (int i = 0; i < VIDEO_SLOTS; i++) {
        p->slots[i].raw = malloc(p->y4m.frame_bytes);
        p->slots[i].img.data = malloc((size_t)p->y4m.width * p->y4m.height * ch);
        if (!p->slots[i].raw || !p->slots[i].img.data) {
            fprintf(stderr, "ferc video: out of memory for %dx%d frames\n", p->y4m.width, p->y4m.height);
            return -1;
        }
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    int started = 0;
    if (!pthread_create(&p->th[0], NULL, reader, p)) started++;
    if (started && !pthread_create(&p->th[1], NULL, detector, p)) started++;
    if (started < 2) {
        stop_threads(p, started);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        fprintf(stderr, "ferc video: cannot start threads\n");
        return -1;
    }
    p->running = 1;
    return 0;
}

video_slot *video_pipeline_next(video_pipeline *p, long f) { return wait_for(p, f, DETECTED); }

int video_pipeline_at_end(const video_slot *s) { return s->state == END; }

void video_pipeline_done(video_pipeline *p, video_slot *s) { set_state(p, s, FREE); }

void video_pipeline_stop(video_pipeline *p)
{
    if (p->running) {
        stop_threads(p, 2);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        p->running = 0;
    }
    for (int i = 0; i < VIDEO_SLOTS; i++) {
        free(p->slots[i].raw), free(p->slots[i].img.data);
        p->slots[i].raw = NULL, p->slots[i].img.data = NULL;
    }
}
