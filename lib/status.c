/* status.c - THE table of status texts: English for logs, stable Chinese `errmsg` for the wire.
 *
 * DESIGN decision 4 keeps every errmsg the server sends in one table. Texts the reference
 * prints (签名错误, 订单已存在 ...) are used verbatim; the rest follow its style. Never
 * reorder: rows are indexed by enum plk_status. */
#include <stddef.h>
#include "parklink/status.h"

struct status_text {
    const char *en;
    const char *zh;
    const char *field_zh; /* after "字段 <name> " when the status is about one field */
};

static const struct status_text texts[PLK__STATUS_COUNT] = {
    [PLK_OK] = {"ok", "成功"},
    [PLK_E_NOMEM] = {"out of memory", "服务器内存不足"},
    [PLK_E_INVALID_ARG] = {"invalid argument", "参数错误"},
    [PLK_E_TOO_LARGE] = {"body too large", "请求体过大"},
    [PLK_E_EMPTY] = {"empty body", "请求体为空"},
    [PLK_E_NOT_JSON] = {"body is not valid JSON", "请求体不是合法的JSON"},
    [PLK_E_BAD_UTF8] = {"body is not valid UTF-8", "请求体不是合法的UTF-8编码"},
    [PLK_E_NOT_OBJECT] = {"envelope is not a JSON object", "请求体不是JSON对象"},
    [PLK_E_DUP_KEY] = {"duplicate member name", "JSON成员名重复"},
    [PLK_E_NO_DATA] = {"envelope has no data", "缺少data"},
    [PLK_E_DATA_NOT_OBJECT] = {"data is not a JSON object", "data不是JSON对象"},
    [PLK_E_NO_SIGN] = {"envelope has no sign", "缺少sign"},
    [PLK_E_BAD_SIGN_FORMAT] = {"sign is not 32 hexadecimal digits", "sign格式错误"},
    [PLK_E_NO_UNION_ID] = {"union_id missing", "缺少union_id"},
    [PLK_E_BAD_UNION_ID] = {"union_id is not a positive integer", "union_id格式错误"},
    [PLK_E_UNION_ID_CONFLICT] = {"union_id at top level and in data differ",
                                 "union_id不一致"},
    [PLK_E_SIGN_MISMATCH] = {"signature does not verify", "签名错误"},
    [PLK_E_UNKNOWN_VENDOR] = {"unknown vendor (union_id)", "厂商不存在"},
    [PLK_E_NO_SERVICE_NAME] = {"service_name missing", "缺少service_name"},
    [PLK_E_UNKNOWN_SERVICE] = {"unknown service", "接口不存在"},
    [PLK_E_FIELD_MISSING] = {"required field missing", "缺少必填字段", "缺失"},
    [PLK_E_FIELD_TYPE] = {"field has the wrong type", "字段类型错误", "类型错误"},
    [PLK_E_FIELD_TOO_LONG] = {"field too long", "字段超长", "超长"},
    [PLK_E_FIELD_ENUM] = {"field value not allowed", "字段取值无效", "取值无效"},
    [PLK_E_FOREIGN_PARK] = {"park belongs to another vendor", "无权操作该车场"},
    [PLK_E_UNKNOWN_PARK] = {"unknown park", "云平台车场不存在"},
    [PLK_E_IO] = {"I/O error", "服务器读写错误"},
    [PLK_E_HTTP] = {"HTTP transfer failed", "网络请求失败"},
    [PLK_E_REPLY] = {"reply is not the expected JSON", "应答格式错误"},
    /* SDK sessions: every text starts with the reference's "error:token无效", which tells a
     * terminal to log in again; the rest says why */
    [PLK_E_SESSION_UNKNOWN] = {"unknown SDK token", "error:token无效"},
    [PLK_E_SESSION_EVICTED] = {"SDK session ended: a newer login of the same vendor or park "
                               "took its place (session quota)",
                               "error:token无效(会话数超过本厂商或车场的配额, 已被更新的登录替换)"},
    [PLK_E_SESSION_IDLE] = {"SDK session expired after being idle",
                            "error:token无效(会话空闲超时)"},
    [PLK_E_SESSION_REVOKED] = {"SDK session revoked: the vendor's key changed, or the vendor or "
                               "park was deleted",
                               "error:token无效(厂商密钥已更换或厂商/车场已删除)"},
    [PLK_E_REPLAYED] = {"replayed request: the same signed request was seen within the vendor's "
                        "replay window",
                        "重复的请求(疑似重放): 请更换rand或时间戳后重新签名"},
    [PLK_E_STALE_TIME] = {"request timestamp outside the vendor's replay window",
                          "请求时间戳超出允许范围(疑似重放)"},
    [PLK_E_BAD_REQUEST] = {"malformed HTTP request", "HTTP请求格式错误"},
    [PLK_E_HEADERS_TOO_LARGE] = {"HTTP request headers too large", "请求头过大"},
    [PLK_E_FIELD_NUL] = {"text holds a NUL character (U+0000)", "字段含有NUL字符(\\u0000)",
                         "含有NUL字符(\\u0000)"},
    [PLK_E_FIELD_RANGE] = {"field value out of range", "字段取值超出范围", "超出范围"},
};

const char *plk_strerror(enum plk_status st)
{
    if ((unsigned)st >= PLK__STATUS_COUNT || texts[st].en == NULL)
        return "unknown status";
    return texts[st].en;
}

const char *plk_errmsg(enum plk_status st)
{
    if ((unsigned)st >= PLK__STATUS_COUNT || texts[st].zh == NULL)
        return "未知错误";
    return texts[st].zh;
}

const char *plk_field_errmsg(enum plk_status st)
{
    return (unsigned)st < PLK__STATUS_COUNT ? texts[st].field_zh : NULL;
}
