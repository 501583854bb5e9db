/* video_pipeline.c - `ferc video`'s reader and detector threads over a ring of frame slots
 * (video.h). The reader and the caller take the slots in frame order, detector i every
 * n_detect-th frame from frame i, so output order is frame order. */
#include "tools/cli/video.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { FREE, READ, DETECTED, END };

/* Atomic rather than volatile sig_atomic_t, as the pipeline's threads read it; lock-free,
 * so the signal handler may store to it. */
static atomic_int video_interrupted;

static void on_sigint(int sig) { atomic_store_explicit(&video_interrupted, 1, memory_order_relaxed); }

static int interrupted(void) { return atomic_load_explicit(&video_interrupted, memory_order_relaxed); }

void video_catch_sigint(void)
{
    atomic_store_explicit(&video_interrupted, 0, memory_order_relaxed);
    /* SA_RESTART: a read interrupted in the reader thread resumes rather than failing. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

/* Whether slot s holds frame in state: a read slot may still hold an earlier frame that
 * another detector has not taken yet (the reader sets ->frame before the state). */
static int reached(const video_slot *s, long frame, int state)
{
    return s->state == END || (s->state == state && (state != READ || s->frame == frame));
}

/* The slot once it reaches state (or END); NULL when stopping. The wait wakes every 50 ms
 * to look at video_interrupted (a signal handler may not signal a condition variable). */
static video_slot *wait_for(video_pipeline *p, long frame, int state)
{
    video_slot *s = &p->slots[frame % p->n_slots];
    pthread_mutex_lock(&p->mu);
    while (!p->stop && !interrupted() && !reached(s, frame, state)) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 50000000;
        if (t.tv_nsec >= 1000000000) t.tv_sec++, t.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&p->cv, &p->mu, &t);
    }
    if (p->stop || interrupted()) s = NULL;
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
    const struct video_worker *w = arg;
    video_pipeline *p = w->p;
    for (long f = w->i;; f += p->n_detect) {
        video_slot *s = wait_for(p, f, READ);
        if (!s || s->state == END) return NULL;
        if (ferc_analyzer_detect(p->detect[w->i], &s->img, s->boxes, CLI_MAX_FACES, &s->n, &s->err)) {
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

int video_pipeline_start(video_pipeline *p, ferc_analyzer *const *detect, int n)
{
    p->n_detect = n, p->n_slots = n + 3;
    for (int i = 0; i < n; i++) p->detect[i] = detect[i], p->workers[i].p = p, p->workers[i].i = i;
    const int ch = ferc_y4m_channels(&p->y4m);
    for (int i = 0; i < p->n_slots; i++) {
        p->slots[i].raw = malloc(p->y4m.frame_bytes);
        p->slots[i].img.data = malloc((size_t)p->y4m.width * p->y4m.height * ch);
        if (!p->slots[i].raw || !p->slots[i].img.data) {
            fprintf(stderr, "ferc video: out of memory for %dx%d frames\n", p->y4m.width, p->y4m.height);
            return -1;
        }
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->started = !pthread_create(&p->th[0], NULL, reader, p);
    while (p->started && p->started <= n && !pthread_create(&p->th[p->started], NULL, detector, &p->workers[p->started - 1]))
        p->started++;
    if (p->started < 1 + n) {
        stop_threads(p, p->started);
        p->started = 0;
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        fprintf(stderr, "ferc video: cannot start threads\n");
        return -1;
    }
    return 0;
}

video_slot *video_pipeline_next(video_pipeline *p, long f) { return wait_for(p, f, DETECTED); }

int video_pipeline_at_end(const video_slot *s) { return s->state == END; }

void video_pipeline_done(video_pipeline *p, video_slot *s) { set_state(p, s, FREE); }

void video_pipeline_stop(video_pipeline *p)
{
    if (p->started) {
        stop_threads(p, p->started);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        p->started = 0;
    }
    for (int i = 0; i < VIDEO_SLOTS; i++) {
        free(p->slots[i].raw), free(p->slots[i].img.data);
        p->slots[i].raw = NULL, p->slots[i].img.data = NULL;
    }
}
