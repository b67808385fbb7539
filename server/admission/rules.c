/* admission/rules.c - 10.4 park_check: the admission rules over the snapshot (rules.h).
 *
 * Which lists a plate is on comes from the snapshot (lookup.h, registry.c); which list wins,
 * and the default texts of the refusals, are decided here and nowhere else. */
#include <string.h>

#include "admission/lookup.h"
#include "admission/rules.h"

static const char *const default_reason_msg[4] = {
    [1] = "非本市会员车辆,限制入场", /* reason "1" */
    [2] = "城市黑名单车辆,禁止入场", /* reason "2" */
    [3] = "车场暂停服务,禁止入场",   /* reason "99" */
};

static void refuse(const struct park *p, int msg_idx, const char *reason, struct admission *out)
{
    out->status = "0";
    out->reason = reason;
    out->reason_msg = (p != NULL && p->reason_msg[msg_idx] != NULL) ? p->reason_msg[msg_idx]
                                                                    : default_reason_msg[msg_idx];
}

/* Rule order (DESIGN decision 6, "99" placed by us): city blacklist -> "2" (a blacklisted
 * car is named as such even at a suspended park); park suspended -> "99"; members-only park
 * and the car neither a member (city-wide or of this park) nor holding an active reservation
 * here -> "1"; else pass. share_status is computed on its own, whatever the outcome. A NULL
 * park is treated as an open park without overrides (the blacklist still applies). */
void admission_decide(const struct snapshot *s, const struct park *p, const char *plate, int color,
                      int64_t now, struct admission *out)
{
    char norm[REGISTRY_PLATE_MAX + 1];
    int n = plate ? registry_plate_norm(plate, strlen(plate), norm) : -1;
    int listed = n > 0 && s != NULL; /* a plate to look up, and lists to look in */
    struct pkey k = {0};
    int blacklisted = 0, reserved = 0;

    if (listed) {
        snapshot_plate_key(&k, norm, (size_t)n, color, p);
        blacklisted = snapshot_plate_listed(s, SET_BLACKLIST, &k, now);
        reserved = p != NULL && snapshot_plate_listed(s, SET_RESERVATIONS, &k, now);
    }
    out->share_status = reserved ? "1" : "0";
    out->status = "1";
    out->reason = "0";
    out->reason_msg = "";
    if (blacklisted) {
        refuse(p, 2, "2", out);
    } else if (p != NULL && p->suspended) {
        refuse(p, 3, "99", out);
    } else if (p != NULL && p->policy == PARK_MEMBERS_ONLY && !reserved &&
               !(listed && snapshot_plate_listed(s, SET_MEMBERS, &k, now))) {
        refuse(p, 1, "1", out);
    }
}
