/* handlers.h - the handler functions of the vendor API and their binding to service rows.
 *
 * api/handlers.c holds the one table binding a service id of lib/services.def ("park_check")
 * to a function api_<group>_<op>, implemented one file per group (api/admission.c ...). A
 * row without a handler is answered with an honest state-0 refusal by the pipeline. */
#ifndef PARKLINK_API_HANDLERS_H
#define PARKLINK_API_HANDLERS_H

#include "api/pipeline.h"

/* Resolve the binding table against the service table. Fails loudly (logs every problem,
 * returns -1) if a bound id is not in the table, is bound twice, or is not a service
 * parklinkd serves (direction V2P). */
int handlers_init(void);
void handlers_cleanup(void);

/* The handler of a row, or NULL if it has none yet. */
api_handler_fn handlers_get(const struct plk_service *svc);

/* Does the row's handler read data as a json_t tree (call->env.data)? 0: it reads scalar
 * members only, through pipeline_text/pipeline_int, and no tree is built for it. */
int handlers_need_tree(const struct plk_service *svc);

/* admission.c - 10.4 park_check */
enum api_result api_admission_park_check(struct api_call *call);

/* parks.c - 2.1 addpark, 2.2 updatepark, 2.3 getqrcodecloud, 2.5 setUp */
enum api_result api_parks_publish(struct api_call *call);
enum api_result api_parks_update(struct api_call *call);
enum api_result api_parks_qrcode(struct api_call *call);
enum api_result api_parks_sms(struct api_call *call);

/* orders.c - 3.1 addorder, 3.2 updateorder, 3.8 queryescape */
enum api_result api_orders_entry(struct api_call *call);
enum api_result api_orders_exit(struct api_call *call);
enum api_result api_orders_escapes(struct api_call *call);

/* queries.c - 4.1 queryorders, 4.3 queryOrderState */
enum api_result api_queries_orders(struct api_call *call);
enum api_result api_queries_order_state(struct api_call *call);

/* reports.c - 10.1 correct_business, 10.2 parking_business_count, 10.3 parking_business_list,
 * 10.5 get_screen_str, 10.6 get_vip_vehicle_list */
enum api_result api_reports_correct(struct api_call *call);
enum api_result api_reports_open_count(struct api_call *call);
enum api_result api_reports_open_list(struct api_call *call);
enum api_result api_reports_screen(struct api_call *call);
enum api_result api_reports_vip_list(struct api_call *call);

#endif
