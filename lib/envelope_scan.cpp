/* envelope_scan.cpp - the one strict pass over an envelope (see envelope_scan.h), on simdjson.
 *
 * simdjson's DOM parser (one parser per thread, reused) checks the grammar and strict UTF-8
 * and decodes the texts; this file then walks the DOM's envelope object and, when `data` is
 * an object, its direct members. The DOM keeps no source positions, so a cursor over the
 * already-checked text walks beside it, member for member in document order, and yields the
 * raw byte spans the DOM cannot give: the `data` span the signature covers and the digits of
 * numbers. The cursor never decides anything about the grammar; simdjson has done that.
 *
 * Decoded texts are copied into env's arena (decoded text is never longer than the raw text
 * plus a terminator, so len + 64 bytes always suffice). The only C++ file of libparklink:
 * everything it exports is the C function of envelope_scan.h. */
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <string_view>

extern "C" {
#include "envelope_scan.h"
}

namespace
{

constexpr size_t MAX_DEPTH = 2048; /* jansson's own limit: deeper texts are refused too */
constexpr unsigned TOP_NAMES = 16; /* top-level names checked for repeats here; more: jansson */
constexpr size_t KEEP_CAPACITY = 1 << 16; /* a parser grown past this is let go after use */

/* --- the cursor: raw spans over text simdjson accepted, guided by the DOM ---------------- */

inline bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct cursor {
    const char *t;
    size_t n, i;
    bool escapes; /* the text has a backslash somewhere: raw and decoded lengths may differ */

    void ws()
    {
        while (i < n && static_cast<unsigned char>(t[i]) <= ' ' && is_ws(t[i]))
            i++;
    }
    /* at a '"': past the closing quote (a quote after an odd run of backslashes is escaped) */
    void raw_string()
    {
        size_t from = ++i;
        for (;;) {
            const void *q = std::memchr(t + i, '"', n - i);
            if (q == nullptr) {
                i = n;
                return;
            }
            size_t j = static_cast<size_t>(static_cast<const char *>(q) - t), k = j;
            while (k > from && t[k - 1] == '\\')
                k--;
            i = j + 1;
            if ((j - k) % 2 == 0)
                return;
        }
    }
    /* at a '"' of a string whose decoded text is `len` bytes: without escapes, the raw text
     * is the decoded text between its quotes */
    void string(size_t len)
    {
        if (!escapes && i + len + 1 < n && t[i + len + 1] == '"')
            i += len + 2;
        else
            raw_string();
    }
    /* at a '{' or '[': past the matching bracket */
    void container()
    {
        size_t depth = 0;
        while (i < n) {
            char c = t[i];
            if (c == '"') {
                raw_string();
                continue;
            }
            i++;
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return;
        }
    }
    /* past the value e starts here */
    void value(simdjson::dom::element e)
    {
        std::string_view s;
        switch (e.type()) {
        case simdjson::dom::element_type::STRING:
            if (e.get_string().get(s))
                raw_string();
            else
                string(s.size());
            break;
        case simdjson::dom::element_type::OBJECT:
        case simdjson::dom::element_type::ARRAY:
            container();
            break;
        case simdjson::dom::element_type::INT64:
            integer(e);
            break;
        case simdjson::dom::element_type::BOOL:
        case simdjson::dom::element_type::NULL_VALUE:
            i += e.is_bool() && !e.get_bool().value_unsafe() ? 5 : 4;
            break;
        default: /* other numbers */
            scalar();
        }
    }
    /* past a number or literal of unknown length */
    void scalar()
    {
        while (i < n) {
            unsigned char c = static_cast<unsigned char>(t[i]);
            if (c <= ' ' || c == ',' || c == '}' || c == ']')
                return;
            i++;
        }
    }
    /* past an integer within int64: JSON writes one canonically (no '+', no leading zeros),
     * so its length follows from its value; "-0" is the one other spelling */
    void integer(simdjson::dom::element e)
    {
        int64_t v = e.get_int64().value_unsafe();
        uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        size_t len = t[i] == '-' ? 2 : 1;
        while (u >= 10) {
            u /= 10;
            len++;
        }
        if (i + len <= n)
            i += len;
        else
            scalar();
    }
    /* at an object's '{': step inside */
    void enter()
    {
        i++;
        ws();
    }
    /* at a member's name: to the start of its value */
    void name(std::string_view key)
    {
        string(key.size());
        ws();
        i++; /* ':' */
        ws();
    }
    /* after a member's value: to the next member's name, or to the closing '}' */
    void next()
    {
        ws();
        if (i < n && t[i] == ',') {
            i++;
            ws();
        }
    }
};

/* Does the JSON text escape U+0000 (\u0000) anywhere? The text is valid JSON, so every
 * backslash starts an escape, and skipping the escaped character keeps "\\u0000" apart. */
bool has_nul_escape(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while ((p = static_cast<const char *>(std::memchr(p, '\\', static_cast<size_t>(end - p)))) !=
           nullptr) {
        if (end - p >= 6 && std::memcmp(p + 1, "u0000", 5) == 0)
            return true;
        p += 2;
        if (p >= end)
            break;
    }
    return false;
}

/* --- the pass ---------------------------------------------------------------------------- */

enum class top_key { other, data, sign, union_id, service_name };

struct pass {
    plk_envelope *env;
    struct envelope_scan *out;
    bool escapes; /* the text has a backslash: only then can a string hold U+0000 */
    enum plk_status st = PLK_OK;

    bool stop(enum plk_status s, const char *what)
    {
        st = s;
        std::snprintf(out->detail, sizeof out->detail, "%s", what);
        return false;
    }

    /* U+0000 in the value of `scope``name` (or in a member name): refused, naming where. */
    bool stop_nul(const char *scope, std::string_view name, const char *what = "")
    {
        st = PLK_E_FIELD_NUL;
        std::snprintf(out->detail, sizeof out->detail, "%s%s%.*s", what, scope,
                      static_cast<int>(name.size() < 64 ? name.size() : 64), name.data());
        return false;
    }

    /* Copy n bytes into the arena, NUL-terminated. */
    const char *keep(const char *p, size_t n)
    {
        if (n + 1 > env->arena_cap - env->arena_used)
            return nullptr; /* cannot happen: the arena is sized from the text */
        char *q = env->arena + env->arena_used;
        std::memcpy(q, p, n);
        q[n] = '\0';
        env->arena_used += n + 1;
        return q;
    }

    /* A number's kind and value, from the DOM and its raw text (a real's text is copied
     * only when kept). */
    bool number(simdjson::dom::element e, const char *raw, size_t len, plk_value *v, bool kept)
    {
        int64_t i;
        double d;
        if (!e.get_int64().get(i)) {
            v->kind = PLK_K_INT;
            v->i = i;
            v->d = static_cast<double>(i);
            v->text = raw; /* the raw digits: canonical already (no leading zeros, no '+') */
            v->len = len;
            if (i == 0 && len == 2) { /* "-0" */
                v->text = "0";
                v->len = 1;
            }
            return true;
        }
        /* past int64 (simdjson reads such integers as uint64 or as a real): jansson refuses */
        if (std::memchr(raw, '.', len) == nullptr && std::memchr(raw, 'e', len) == nullptr &&
            std::memchr(raw, 'E', len) == nullptr)
            return stop(PLK_E_NOT_JSON, "too big integer");
        if (e.get_double().get(d))
            return stop(PLK_E_NOT_JSON, "number out of range");
        const char *text = kept ? keep(raw, len) : raw;
        if (text == nullptr)
            return stop(PLK_E_NOMEM, "out of memory");
        v->kind = PLK_K_REAL;
        v->text = text;
        v->len = len;
        v->i = 0;
        v->d = d;
        return true;
    }

    /* A value into v (nullptr: checked, not kept). Containers get their kind and raw span;
     * only jansson checks inside them, so they set needs_tree, but a U+0000 anywhere inside
     * is refused here. scope and name say where the value stands, for the error detail. */
    bool value(simdjson::dom::element e, const char *raw, size_t len, plk_value *v,
               const char *scope, std::string_view name)
    {
        plk_value tmp;
        bool kept = v != nullptr;
        if (!kept)
            v = &tmp;
        std::memset(v, 0, sizeof *v);
        switch (e.type()) {
        case simdjson::dom::element_type::NULL_VALUE:
            v->kind = PLK_K_NULL;
            v->text = "null";
            v->len = 4;
            return true;
        case simdjson::dom::element_type::BOOL: {
            bool b = false;
            if (e.get_bool().get(b))
                return stop(PLK_E_NOT_JSON, "unreadable value");
            v->kind = PLK_K_BOOL;
            v->i = b;
            v->d = b;
            v->text = b ? "true" : "false";
            v->len = b ? 4 : 5;
            return true;
        }
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE:
            return number(e, raw, len, v, kept);
        case simdjson::dom::element_type::STRING: {
            std::string_view s;
            if (e.get_string().get(s))
                return stop(PLK_E_NOT_JSON, "unreadable value");
            if (escapes && std::memchr(s.data(), '\0', s.size()) != nullptr)
                return stop_nul(scope, name);
            v->kind = PLK_K_STR;
            if (kept && (v->text = keep(s.data(), s.size())) == nullptr)
                return stop(PLK_E_NOMEM, "out of memory");
            v->len = s.size();
            return true;
        }
        case simdjson::dom::element_type::OBJECT:
        case simdjson::dom::element_type::ARRAY:
            v->kind = e.type() == simdjson::dom::element_type::OBJECT ? PLK_K_OBJ : PLK_K_ARR;
            v->text = raw;
            v->len = len;
            out->needs_tree = 1;
            if (escapes && has_nul_escape(raw, len))
                return stop_nul(scope, name);
            return true;
        }
        return stop(PLK_E_NOT_JSON, "unknown value");
    }

    static bool name_ok(std::string_view name)
    {
        return std::memchr(name.data(), '\0', name.size()) == nullptr;
    }

    /* data's direct members into env's flat view; c from data's '{' to past its '}'. */
    bool data_object(simdjson::dom::object obj, cursor &c)
    {
        c.enter();
        for (auto field : obj) {
            c.name(field.key);
            const char *at = c.t + c.i;
            c.value(field.value);
            size_t n = static_cast<size_t>(c.t + c.i - at);
            c.next();
            if (!name_ok(field.key))
                return stop_nul("data.", field.key, "member name ");
            for (unsigned i = 0; i < env->nmembers; i++)
                if (env->members[i].name_len == field.key.size() &&
                    std::memcmp(env->members[i].name, field.key.data(), field.key.size()) == 0)
                    return stop(PLK_E_DUP_KEY, "duplicate object key");
            if (env->nmembers == PLK_ENV_MEMBERS) {
                out->overflow = 1;
                out->needs_tree = 1; /* jansson checks the rest for repeats */
                if (!value(field.value, at, n, nullptr, "data.", field.key))
                    return false;
                continue;
            }
            plk_member *m = &env->members[env->nmembers];
            if ((m->name = keep(field.key.data(), field.key.size())) == nullptr)
                return stop(PLK_E_NOMEM, "out of memory");
            m->name_len = field.key.size();
            env->nmembers++;
            if (!value(field.value, at, n, &m->v, "data.", field.key))
                return false;
        }
        c.i++; /* '}' */
        return true;
    }

    static top_key key_of(std::string_view k)
    {
        if (k == "data")
            return top_key::data;
        if (k == "sign")
            return top_key::sign;
        if (k == "union_id")
            return top_key::union_id;
        if (k == "service_name")
            return top_key::service_name;
        return top_key::other;
    }

    /* The envelope object: its own members, and data read in the same walk. */
    bool envelope(simdjson::dom::object obj, const char *text, size_t len)
    {
        const char *names[TOP_NAMES]; /* not cleared: filled up to nnames */
        size_t name_lens[TOP_NAMES];
        unsigned nnames = 0;
        cursor c{text, len, 0, escapes};
        c.ws();
        c.enter();
        for (auto field : obj) {
            if (!name_ok(field.key))
                return stop_nul("", field.key, "member name ");
            for (unsigned i = 0; i < nnames; i++)
                if (name_lens[i] == field.key.size() &&
                    std::memcmp(names[i], field.key.data(), field.key.size()) == 0)
                    return stop(PLK_E_DUP_KEY, "duplicate object key");
            if (nnames < TOP_NAMES) {
                names[nnames] = field.key.data();
                name_lens[nnames++] = field.key.size();
            } else
                out->needs_tree = 1; /* jansson checks the rest for repeats */

            c.name(field.key);
            const char *at = c.t + c.i;
            top_key key = key_of(field.key);
            if (key == top_key::data && field.value.is_object()) {
                simdjson::dom::object d;
                if (field.value.get_object().get(d) || !data_object(d, c))
                    return false;
                out->has_data = 1;
                out->data_kind = PLK_K_OBJ;
                out->data_text = at;
                out->data_len = static_cast<size_t>(c.t + c.i - at);
                c.next();
                continue;
            }
            c.value(field.value);
            size_t n = static_cast<size_t>(c.t + c.i - at);
            c.next();

            plk_value *v = nullptr; /* other members: checked, not kept */
            switch (key) {
            case top_key::sign:
                out->has_sign = 1;
                v = &out->sign;
                break;
            case top_key::union_id:
                out->has_union_id = 1;
                v = &out->union_id;
                break;
            case top_key::service_name:
                out->has_service_name = 1;
                v = &out->service_name;
                break;
            case top_key::data: /* an array or a scalar (an object was read above) */
                out->has_data = 1;
                if (field.value.is_array()) {
                    if (escapes && has_nul_escape(at, n))
                        return stop_nul("", field.key);
                    out->data_kind = PLK_K_ARR;
                    out->data_text = at;
                    out->data_len = n;
                    out->needs_tree = 1; /* envelope D: the view describes objects only */
                    continue;
                }
                v = &out->data_scalar; /* kept for its kind, refused by envelope.c */
                break;
            case top_key::other:
                break;
            }
            if (!value(field.value, at, n, v, "", field.key))
                return false;
        }
        return true;
    }
};

/* Does the text escape a UTF-16 surrogate (\uD800-\uDFFF)? Such texts are left to jansson's
 * decoder, whose reading of them is the reference. */
bool has_surrogate_escape(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while ((p = static_cast<const char *>(std::memchr(p, '\\', static_cast<size_t>(end - p)))) !=
           nullptr) {
        if (end - p >= 4 && p[1] == 'u' && (p[2] == 'd' || p[2] == 'D') &&
            std::strchr("89abcdefABCDEF", p[3]) != nullptr && p[3] != '\0')
            return true;
        p += 2; /* skip the escaped character, "\\" included */
        if (p >= end)
            break;
    }
    return false;
}

/* The trimmed span of the whole text (a root scalar's raw text). */
void trim(const char *text, size_t len, const char **at, size_t *n)
{
    size_t a = 0, b = len;
    while (a < b && is_ws(text[a]))
        a++;
    while (b > a && is_ws(text[b - 1]))
        b--;
    *at = text + a;
    *n = b - a;
}

/* This thread's parser, ready for len bytes at jansson's depth limit. */
simdjson::dom::parser *thread_parser(size_t len)
{
    static thread_local simdjson::dom::parser parser;
    if (parser.capacity() < len || parser.max_depth() != MAX_DEPTH) {
        if (parser.allocate(len < 4096 ? 4096 : len, MAX_DEPTH) != simdjson::SUCCESS)
            return nullptr;
    }
    return &parser;
}

} // namespace

extern "C" enum plk_status envelope_scan_text(struct plk_envelope *env, const char *text,
                                              size_t len, struct envelope_scan *out)
{
    simdjson::dom::parser *parser = thread_parser(len);
    simdjson::dom::element root;
    pass p{env, out, std::memchr(text, '\\', len) != nullptr};

    std::memset(out, 0, offsetof(struct envelope_scan, root_string));
    out->detail[0] = '\0';
    env->nmembers = 0;
    if (parser == nullptr)
        return PLK_E_NOMEM;
    /* the text is copied into the parser's padded buffer: simdjson reads past the end */
    simdjson::error_code err = parser->parse(text, len, true).get(root);
    if (err) {
        enum plk_status st = err == simdjson::UTF8_ERROR ? PLK_E_BAD_UTF8
                             : err == simdjson::MEMALLOC ? PLK_E_NOMEM
                                                         : PLK_E_NOT_JSON;
        std::snprintf(out->detail, sizeof out->detail, "%s", simdjson::error_message(err));
        p.st = st;
    } else {
        switch (root.type()) {
        case simdjson::dom::element_type::OBJECT: {
            simdjson::dom::object obj;
            out->root_kind = PLK_K_OBJ;
            if (root.get_object().get(obj))
                p.stop(PLK_E_NOT_JSON, "unreadable object");
            else
                p.envelope(obj, text, len);
            break;
        }
        case simdjson::dom::element_type::ARRAY:
            out->root_kind = PLK_K_ARR;
            out->needs_tree = 1;
            break;
        default: {
            /* a scalar root: only its kind matters (a string is the double-encoded body) */
            const char *at;
            size_t n;
            trim(text, len, &at, &n);
            if (p.value(root, at, n, &out->root_string, "", "the body"))
                out->root_kind = out->root_string.kind;
            break;
        }
        }
    }
    if (parser->capacity() > KEEP_CAPACITY) /* one large body does not pin its memory */
        *parser = simdjson::dom::parser{};
    if (p.st == PLK_OK && has_surrogate_escape(text, len))
        out->needs_tree = 1;
    return p.st;
}
