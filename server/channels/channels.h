/* channels/channels.h - start and stop the vendor-facing delivery channels of the SDK's HTTP
 * mode: long-poll (longpoll.h), the upload endpoint (sdk_http.h) and its sessions
 * (sdk_session.h). The outbox below them learns of long-poll only through the hook this
 * start registers (delivery_set_longpoll), so it includes nothing of this folder. */
#ifndef PARKLINK_CHANNELS_H
#define PARKLINK_CHANNELS_H

struct config;

/* Set the channels up from cfg and hang long-poll on the workers and the delivery thread.
 * Main thread, before outbox_start() and the workers. 0 ok. */
int channels_start(const struct config *cfg);

/* Forget the registry hook and end every SDK session. Main thread, after outbox_stop(). */
void channels_stop(void);

#endif
