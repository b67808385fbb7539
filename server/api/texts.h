/* texts.h - the errmsg texts of the business replies of parks, orders, queries and reports.
 *
 * DESIGN decision 4: stable Chinese texts, the reference's own where it prints one (上传成功,
 * 订单已存在, 添加车场成功 ...; spec 1.5.2), in one place. Protocol-level refusals (签名错误,
 * 字段 x 缺失 ...) come from lib/status.c through the pipeline. */
#ifndef PARKLINK_API_TEXTS_H
#define PARKLINK_API_TEXTS_H

/* the reference's texts */
#define MSG_UPLOADED "上传成功"         /* 3.1, 10.x */
#define MSG_ORDER_EXISTS "订单已存在"   /* 3.1 repeated order_id */
#define MSG_PARK_ADDED "添加车场成功"   /* 2.1 */
#define MSG_PARK_UPDATED "修改车场成功" /* 2.2 */
#define MSG_QR_OK "getCodeUrl success"  /* 2.3 */
#define MSG_SET_OK "设置成功"           /* 2.5 */
#define MSG_QUERY_OK "查询成功"         /* 3.8, 4.1, 4.3 */
#define MSG_OK "成功"                   /* 10.5 */
#define MSG_PAYING "支付中"             /* state 2 */

/* parklinkd's own, in the same style (docs/decisions.md) */
#define MSG_ORDER_SETTLED "订单已结算"
#define MSG_ORDER_SETTLED_OTHER "订单已结算，结算信息不能更改（更正请用correct_business）"
#define MSG_EXIT_BEFORE_ENTRY "出场时间早于入场时间"
#define MSG_NO_ORDER "订单不存在"
#define MSG_STILL_INSIDE "车辆在场，不能更正时间和金额"
#define MSG_NO_PAYMENT "支付记录不存在"
#define MSG_PARK_FOREIGN "车场已由其他厂商发布"
#define MSG_RAND_REPEATED "rand与上次请求相同，请求无效"
#define MSG_PLOTS "空车位数不能大于总车位数"
#define MSG_STORE_FAILED "服务器读写错误，请重试"
#define MSG_STORE_BUSY "服务器繁忙，数据未保存，请稍后重试" /* STORE_BUSY (docs/server.md) */
#define MSG_STORE_FULL "服务器存储空间不足，数据未保存，请稍后重试" /* STORE_FULL */
#define MSG_WINDOW_MONTH "查询时间段不能超过一个自然月"
#define MSG_WINDOW_ORDER "end_time 不能早于 start_time"
#define MSG_SELECTOR "park_id、order_id、car_number 至少填写一项"

#endif
