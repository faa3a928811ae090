/*  jsonio_simd.cpp - the simdjson fast path of the JSON observation decoder (jsonio_simd.h).

    The only C++ translation unit of cadre, and the only one that includes simdjson (Debian
    libsimdjson-dev). simdjson's stage 1 (SIMD, chosen at run time from the CPU) indexes the
    structure of the line and validates its UTF-8 and that no string holds a raw control
    character; the On-Demand walk below then reads the record in one forward pass, building
    the obs_t as it goes, with no tree in between.

    The rule of this file: accept only what jansson (jsonio.c, flags JSON_REJECT_DUPLICATES |
    JSON_ALLOW_NUL) would accept, with the same obs_t; decline everything else, and the
    jansson decoder decides and words the error. On-Demand is lazy - a value nobody asks for
    is skipped unchecked - so the walk asks for every value of the text, ignored ones
    included (s_skip), which makes simdjson check the whole text as jansson does. Where the
    two parsers could read valid JSON differently, the walk declines or does what jansson
    does:
    - duplicate keys (jansson rejects them in every object) and keys holding NUL (jansson
      rejects them): declined, in every object, ignored ones included;
    - numbers: jansson types a number by its spelling (a '.', 'e' or 'E' makes a real) and
      refuses integers outside int64 and reals that overflow a double. Integers go through
      get_int64 and are converted with a C cast as jansson's users do ((double)-0 is +0.0);
      reals through get_double, which checks the syntax and, for mantissas of up to 19
      digits, rounds correctly as glibc's strtod does (same bits, underflow to 0 or a
      subnormal included); longer mantissas, which simdjson 3.0.1 can misread, are read
      again with strtod, as jansson reads them; simdjson's errors (1e999, exponents it will
      not read) are declines;
    - nesting deeper than S_MAX_DEPTH (jansson allows 2048, simdjson 1024): declined;
    - anything before the root object (a UTF-8 BOM) or after it: declined;
    - every schema rule (types, limits, required fields, obs_check_record): declined at the
      first fault; the walk calls the same obs_check_* helpers as jsonio.c, and
      obs_check_record last, so it cannot accept what jsonio.c rejects.
    A delete is read like any record and then cut to its id; a delete with malformed other
    fields is declined (jansson accepts it, as it ignores them).

    Memory: each thread keeps a parser, a padded copy of the input and scratch arrays, sized
    to the largest record seen and shrunk back after one above S_KEEP_BYTES. Strings of the
    record are copied out with xstrndup, arrays allocated to their exact size, as jsonio.c
    does.
*/
#include "jsonio_simd.h"

extern "C" {
#include "jsonio.h"
#include "xalloc.h"
}

#include <simdjson.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace
{

namespace od = simdjson::ondemand;
using std::string_view;

/*  Deepest nesting the walk follows (the record itself is depth 0); deeper texts are left
    to jansson. Observations need 4; the bound keeps the recursion of s_skip short. */
constexpr int S_MAX_DEPTH = 64;
/*  Buffers above this are released after their record. */
constexpr size_t S_KEEP_BYTES = 1u << 20;
/*  Mantissa digits up to which simdjson's get_double is exact (s_number). */
constexpr size_t S_EXACT_DIGITS = 19;
/*  Initial parser capacity, bytes of JSON. */
constexpr size_t S_MIN_CAPACITY = 64u << 10;

/*  Per-thread state: the parser, the padded input copy and the scratch arrays that collect
    array elements before they are copied into an exact allocation. */
struct s_state_t {
    od::parser parser{OBS_MAX_RECORD};   /* max capacity: one record */
    char *input = nullptr;               /* padded copy of the text, xmalloc'd */
    size_t input_cap = 0;                /* bytes allocated for input */
    std::vector<obs_session_t> sessions; /* sessions of the record being read */
    std::vector<char *> commands;        /* commands of the session being read */
    std::vector<obs_cred_t> creds;       /* credentials of the session being read */

    s_state_t() = default;
    s_state_t(const s_state_t &) = delete;
    s_state_t &operator=(const s_state_t &) = delete;
    ~s_state_t()
    {
        free(input);
    }
};

thread_local s_state_t s_state;

static_assert(JSONIO_PADDING >= simdjson::SIMDJSON_PADDING, "jsonio.h's padding is simdjson's");

/*  The keys of one object, to refuse duplicates as JSON_REJECT_DUPLICATES does (bytes of
    the unescaped key, NUL included), and keys holding NUL as jansson does. Keys are views
    into the parser's string buffer, valid for the whole document. Linear up to S_LINEAR
    keys, hashed past that. */
class s_keyset_t
{
  public:
    /*  Adds key; false when it was already there or holds a NUL byte. */
    bool add(string_view key)
    {
        if (key.find('\0') != string_view::npos) {
            return false;
        }
        if (n_ < S_LINEAR) {
            for (size_t i = 0; i < n_; i++) {
                if (small_[i] == key) {
                    return false;
                }
            }
            small_[n_++] = key;
            return true;
        }
        if (n_ == S_LINEAR) {
            big_.insert(small_, small_ + S_LINEAR);
        }
        n_++;
        return big_.insert(key).second;
    }

  private:
    static constexpr size_t S_LINEAR = 16;
    string_view small_[S_LINEAR];         /* the first keys */
    size_t n_ = 0;                        /* keys added */
    std::unordered_set<string_view> big_; /* every key once past S_LINEAR */
};

/*  Looks key up in names (n of them); returns its index or -1. */
int
s_key_index(string_view key, const string_view *names, int n)
{
    for (int i = 0; i < n; i++) {
        if (names[i] == key) {
            return i;
        }
    }
    return -1;
}

/*  Reads the next field of an object into *f and its unescaped key into *key; false on
    error. */
bool
s_field(simdjson::simdjson_result<od::field> fr, od::field *f, string_view *key)
{
    return std::move(fr).get(*f) == simdjson::SUCCESS &&
           f->unescaped_key().get(*key) == simdjson::SUCCESS;
}

/*  Reads the next field of an object with known keys names (n of them) into *f: *k is the
    key's index, or -1 for another key, whose unescaped text is then in *key. Known keys are
    matched on the raw text (no unescaping); a known name spelled with escapes ("i\u0064")
    is left to jansson, as it could hide a duplicate. False when jansson must decide. */
bool
s_known_field(simdjson::simdjson_result<od::field> fr, const string_view *names, int n,
              od::field *f, int *k, string_view *key)
{
    if (std::move(fr).get(*f) != simdjson::SUCCESS) {
        return false;
    }
    /*  The raw key up to its closing quote or first escape: stage 1 found the quote that
        closes it inside the text, so the scan stops there at the latest. */
    const char *raw = f->key().raw();
    size_t len = 0;
    while (raw[len] != '"' && raw[len] != '\\') {
        len++;
    }
    if (raw[len] == '"') {
        for (int i = 0; i < n; i++) {
            if (names[i].size() == len && memcmp(names[i].data(), raw, len) == 0) {
                *k = i;
                return true;
            }
        }
    }
    *k = -1;
    return f->unescaped_key().get(*key) == simdjson::SUCCESS && s_key_index(*key, names, n) < 0;
}

/*  Skips a value the record ignores, making simdjson check all of it: every string
    unescaped, every number and literal parsed by jansson's rules, every object's keys
    distinct. False when jansson must decide. */
bool s_skip(od::value v, int depth);

/*  Digits of a number token's mantissa (before any exponent), leading zeros included. */
size_t
s_mantissa_digits(string_view tok)
{
    size_t n = 0;
    for (char c : tok) {
        if (c == 'e' || c == 'E') {
            break;
        }
        n += c >= '0' && c <= '9';
    }
    return n;
}

/*  Reads the real number token tok (valid JSON, as get_double found it, maybe followed by
    whitespace) with strtod, as jansson reads every real; false when it overflows. */
bool
s_strtod(string_view tok, double *d)
{
    char small[64];
    char *text = tok.size() < sizeof small ? small : (char *)xmalloc(tok.size() + 1);
    memcpy(text, tok.data(), tok.size());
    text[tok.size()] = '\0';
    errno = 0;
    *d = strtod(text, nullptr);
    bool overflow = (*d == HUGE_VAL || *d == -HUGE_VAL) && errno == ERANGE;
    if (text != small) {
        free(text);
    }
    return !overflow;
}

/*  Reads a number as jansson types and converts it (see the file comment). *is_int tells
    which it was, *i holds an integer's value. False: jansson must decide. */
bool
s_number(od::value &v, bool *is_int, int64_t *i, double *d)
{
    string_view tok = v.raw_json_token();
    *is_int = tok.find_first_of(".eE") == string_view::npos;
    if (*is_int) {
        if (v.get_int64().get(*i) != simdjson::SUCCESS) {
            return false;
        }
        *d = (double)*i;
        return true;
    }
    if (v.get_double().get(*d) != simdjson::SUCCESS) {
        return false;
    }
    /*  get_double has checked the syntax. Its value is exact for mantissas of up to 19
        digits, which fit its 64-bit accumulator; simdjson 3.0.1 misreads some longer ones
        (0.79769391590490817398 reads as 0.0598...), so those are read again by strtod. */
    return s_mantissa_digits(tok) <= S_EXACT_DIGITS || s_strtod(tok, d);
}

bool
s_skip(od::value v, int depth)
{
    if (depth > S_MAX_DEPTH) {
        return false;
    }
    od::json_type t;
    if (v.type().get(t) != simdjson::SUCCESS) {
        return false;
    }
    switch (t) {
    case od::json_type::object: {
        od::object o;
        if (v.get_object().get(o) != simdjson::SUCCESS) {
            return false;
        }
        s_keyset_t keys;
        for (auto fr : o) {
            od::field f;
            string_view key;
            if (!s_field(fr, &f, &key) || !keys.add(key) || !s_skip(f.value(), depth + 1)) {
                return false;
            }
        }
        return true;
    }
    case od::json_type::array: {
        od::array a;
        if (v.get_array().get(a) != simdjson::SUCCESS) {
            return false;
        }
        for (auto er : a) {
            od::value e;
            if (std::move(er).get(e) != simdjson::SUCCESS || !s_skip(e, depth + 1)) {
                return false;
            }
        }
        return true;
    }
    case od::json_type::string: {
        string_view s;
        return v.get_string().get(s) == simdjson::SUCCESS;
    }
    case od::json_type::number: {
        bool is_int = false;
        int64_t i = 0;
        double d = 0;
        return s_number(v, &is_int, &i, &d);
    }
    case od::json_type::boolean: {
        bool b = false;
        return v.get_bool().get(b) == simdjson::SUCCESS;
    }
    case od::json_type::null: {
        bool null = false;
        return v.is_null().get(null) == simdjson::SUCCESS && null;
    }
    }
    return false;
}

/*  The JSON type of v, or false when even that cannot be read. */
bool
s_type(od::value &v, od::json_type *t)
{
    return v.type().get(*t) == simdjson::SUCCESS;
}

/*  Consumes a null; false if it is not exactly "null". */
bool
s_null(od::value &v)
{
    bool null = false;
    return v.is_null().get(null) == simdjson::SUCCESS && null;
}

/*  An optional array: false when v is neither null nor an array; otherwise *here tells
    which, a null is consumed and *a is the array. */
bool
s_opt_array(od::value &v, od::array *a, bool *here)
{
    od::json_type t;
    if (!s_type(v, &t)) {
        return false;
    }
    *here = t != od::json_type::null;
    if (!*here) {
        return s_null(v);
    }
    return t == od::json_type::array && v.get_array().get(*a) == simdjson::SUCCESS;
}

/*  An optional object, as s_opt_array. */
bool
s_opt_object(od::value &v, od::object *o, bool *here)
{
    od::json_type t;
    if (!s_type(v, &t)) {
        return false;
    }
    *here = t != od::json_type::null;
    if (!*here) {
        return s_null(v);
    }
    return t == od::json_type::object && v.get_object().get(*o) == simdjson::SUCCESS;
}

/*  Reads a string of at most max bytes without NUL into *s (a view into the parser). The
    rest of obs_check_string (UTF-8) is obs_check_record's at the end, which checks every
    string of the record; NUL must be caught here, before xstrndup would cut the string. */
bool
s_checked_string(od::value &v, size_t max, string_view *s)
{
    return v.get_string().get(*s) == simdjson::SUCCESS && s->size() <= max &&
           memchr(s->data(), '\0', s->size()) == nullptr;
}

/*  An optional string field (null: stays NULL) of at most max bytes, copied into *out
    (which must be NULL: keys are distinct). */
bool
s_opt_string(od::value &v, size_t max, char **out)
{
    od::json_type t;
    if (!s_type(v, &t)) {
        return false;
    }
    if (t == od::json_type::null) {
        return s_null(v);
    }
    string_view s;
    if (t != od::json_type::string || !s_checked_string(v, max, &s)) {
        return false;
    }
    *out = xstrndup(s.data(), s.size());
    return true;
}

/*  A required string element (null is a type error) of at most max bytes, copied. */
bool
s_req_string(od::value &v, size_t max, char **out)
{
    string_view s;
    od::json_type t;
    if (!s_type(v, &t) || t != od::json_type::string || !s_checked_string(v, max, &s)) {
        return false;
    }
    *out = xstrndup(s.data(), s.size());
    return true;
}

/*  A number field: null leaves *present false; integers and reals are read as jansson
    does and must pass obs_check_number(nonneg). */
bool
s_num_field(od::value &v, bool nonneg, double *out, bool *present, obs_error_t *err)
{
    *present = false;
    od::json_type t;
    if (!s_type(v, &t)) {
        return false;
    }
    if (t == od::json_type::null) {
        return s_null(v);
    }
    bool is_int = false;
    int64_t i = 0;
    double d = 0;
    if (t != od::json_type::number || !s_number(v, &is_int, &i, &d) ||
        obs_check_number(d, nonneg, err, "") != 0) {
        return false;
    }
    *out = d;
    *present = true;
    return true;
}

/*  Records a known key (bit k of *seen) or an unknown one (in *others); false for a
    duplicate or a key holding NUL. */
bool
s_seen(int k, string_view key, uint32_t *seen, s_keyset_t *others)
{
    if (k < 0) {
        return others->add(key);
    }
    if (*seen & (1u << k)) {
        return false;
    }
    *seen |= 1u << k;
    return true;
}

/*  Frees what scratch string pointers own and empties the array. */
void
s_free_strings(std::vector<char *> &v)
{
    for (char *s : v) {
        free(s);
    }
    v.clear();
}

/*  "commands": null or an array of strings; stored exactly sized in s. */
bool
s_commands(od::value &v, obs_session_t *s)
{
    od::array a;
    bool here = false;
    if (!s_opt_array(v, &a, &here)) {
        return false;
    }
    if (!here) {
        return true;
    }
    std::vector<char *> &cmds = s_state.commands;
    cmds.clear();
    for (auto er : a) {
        od::value e;
        char *cmd = nullptr;
        if (cmds.size() >= OBS_MAX_ITEMS || std::move(er).get(e) != simdjson::SUCCESS ||
            !s_req_string(e, OBS_MAX_TEXT, &cmd)) {
            s_free_strings(cmds);
            return false;
        }
        cmds.push_back(cmd);
    }
    if (!cmds.empty()) {
        s->commands = (char **)xcalloc(cmds.size(), sizeof *s->commands);
        memcpy(s->commands, cmds.data(), cmds.size() * sizeof *s->commands);
        s->n_commands = cmds.size();
        cmds.clear();
    }
    return true;
}

/*  Frees the scratch credentials and empties the array. */
void
s_free_creds(std::vector<obs_cred_t> &v)
{
    for (obs_cred_t &c : v) {
        free(c.user);
        free(c.pass);
    }
    v.clear();
}

/*  One [user, password] pair of exactly two strings into *cred (which the caller frees,
    whatever the result). */
bool
s_cred_pair(od::value &v, obs_cred_t *cred)
{
    od::json_type t;
    od::array a;
    if (!s_type(v, &t) || t != od::json_type::array || v.get_array().get(a) != simdjson::SUCCESS) {
        return false;
    }
    size_t n = 0;
    for (auto er : a) {
        od::value e;
        if (n >= 2 || std::move(er).get(e) != simdjson::SUCCESS ||
            !s_req_string(e, OBS_MAX_TEXT, n == 0 ? &cred->user : &cred->pass)) {
            return false;
        }
        n++;
    }
    return n == 2;
}

/*  "credentials": null or an array of pairs; stored exactly sized in s. */
bool
s_credentials(od::value &v, obs_session_t *s)
{
    od::array a;
    bool here = false;
    if (!s_opt_array(v, &a, &here)) {
        return false;
    }
    if (!here) {
        return true;
    }
    std::vector<obs_cred_t> &creds = s_state.creds;
    creds.clear();
    for (auto er : a) {
        od::value e;
        if (creds.size() >= OBS_MAX_ITEMS || std::move(er).get(e) != simdjson::SUCCESS) {
            s_free_creds(creds);
            return false;
        }
        creds.push_back(obs_cred_t{nullptr, nullptr});
        if (!s_cred_pair(e, &creds.back())) {
            s_free_creds(creds);
            return false;
        }
    }
    if (!creds.empty()) {
        s->creds = (obs_cred_t *)xcalloc(creds.size(), sizeof *s->creds);
        memcpy(s->creds, creds.data(), creds.size() * sizeof *s->creds);
        s->n_creds = creds.size();
        creds.clear();
    }
    return true;
}

/*  The keys of a session, in the order of their bits. */
enum {
    S_SID,
    S_DECKY,
    S_PHASE,
    S_START,
    S_DURATION,
    S_COMMANDS,
    S_CREDENTIALS,
    S_PAYLOAD,
    S_C2,
    S_N_SESSION_KEYS
};
const string_view s_session_keys[S_N_SESSION_KEYS] = {
    "id", "decky", "phase", "start", "duration", "commands", "credentials", "payload_hash", "c2"};

/*  One session object into *s (which the caller clears on failure). */
bool
s_session(od::value &v, obs_session_t *s, obs_error_t *err, int depth)
{
    od::json_type t;
    od::object o;
    if (!s_type(v, &t) || t != od::json_type::object ||
        v.get_object().get(o) != simdjson::SUCCESS) {
        return false;
    }
    uint32_t seen = 0;
    bool has_phase = false;
    bool has_start = false;
    s_keyset_t others;
    for (auto fr : o) {
        od::field f;
        string_view key;
        int k = -1;
        if (!s_known_field(fr, s_session_keys, S_N_SESSION_KEYS, &f, &k, &key) ||
            !s_seen(k, key, &seen, &others)) {
            return false;
        }
        od::value &fv = f.value();
        bool ok = false;
        bool present = false;
        switch (k) {
        case S_SID:
            ok = s_opt_string(fv, OBS_MAX_ID, &s->id);
            break;
        case S_DECKY:
            ok = s_opt_string(fv, OBS_MAX_SHORT, &s->decky);
            break;
        case S_PHASE: {
            string_view p;
            od::json_type pt;
            ok = s_type(fv, &pt) && pt == od::json_type::string &&
                 fv.get_string().get(p) == simdjson::SUCCESS &&
                 obs_check_phase(p.data(), p.size(), &s->phase, err, "phase") == 0;
            has_phase = ok;
            break;
        }
        case S_START:
            ok = s_num_field(fv, false, &s->start, &present, err);
            has_start = present;
            break;
        case S_DURATION:
            ok = s_num_field(fv, true, &s->duration, &present, err);
            break;
        case S_COMMANDS:
            ok = s_commands(fv, s);
            break;
        case S_CREDENTIALS:
            ok = s_credentials(fv, s);
            break;
        case S_PAYLOAD:
            ok = s_opt_string(fv, OBS_MAX_SHORT, &s->payload_hash);
            break;
        case S_C2:
            ok = s_opt_string(fv, OBS_MAX_SHORT, &s->c2);
            break;
        default:
            ok = s_skip(fv, depth + 1);
            break;
        }
        if (!ok) {
            return false;
        }
    }
    return has_phase && has_start;
}

/*  "sessions": null or an array of session objects; stored exactly sized in obs. */
bool
s_sessions(od::value &v, obs_t *obs, obs_error_t *err, int depth)
{
    od::array a;
    bool here = false;
    if (!s_opt_array(v, &a, &here)) {
        return false;
    }
    if (!here) {
        return true;
    }
    std::vector<obs_session_t> &ss = s_state.sessions;
    ss.clear();
    bool ok = true;
    for (auto er : a) {
        od::value e;
        if (ss.size() >= OBS_MAX_SESSIONS || std::move(er).get(e) != simdjson::SUCCESS) {
            ok = false;
            break;
        }
        ss.push_back(obs_session_t{});
        if (!s_session(e, &ss.back(), err, depth + 1)) {
            ok = false;
            break;
        }
    }
    if (!ok) {
        for (obs_session_t &s : ss) {
            obs_session_clear(&s);
        }
        ss.clear();
        return false;
    }
    if (!ss.empty()) {
        obs->sessions = (obs_session_t *)xcalloc(ss.size(), sizeof *obs->sessions);
        memcpy(obs->sessions, ss.data(), ss.size() * sizeof *obs->sessions);
        obs->n_sessions = ss.size();
        obs->sessions_cap = ss.size();
        ss.clear();
    }
    return true;
}

/*  "truth": null or an object with optional campaign, identity and actor strings. */
bool
s_truth(od::value &v, obs_t *obs, int depth)
{
    static const string_view names[3] = {"campaign", "identity", "actor"};
    od::object o;
    bool here = false;
    if (!s_opt_object(v, &o, &here)) {
        return false;
    }
    if (!here) {
        return true;
    }
    char **slots[3] = {&obs->truth_campaign, &obs->truth_identity, &obs->truth_actor};
    uint32_t seen = 0;
    s_keyset_t others;
    for (auto fr : o) {
        od::field f;
        string_view key;
        int k = -1;
        if (!s_known_field(fr, names, 3, &f, &k, &key) || !s_seen(k, key, &seen, &others)) {
            return false;
        }
        bool ok = k >= 0 ? s_opt_string(f.value(), OBS_MAX_SHORT, slots[k])
                         : s_skip(f.value(), depth + 1);
        if (!ok) {
            return false;
        }
    }
    return true;
}

/*  "fingerprints": null or an object of kind -> string or null. */
bool
s_fingerprints(od::value &v, obs_t *obs, obs_error_t *err)
{
    od::object o;
    bool here = false;
    if (!s_opt_object(v, &o, &here)) {
        return false;
    }
    if (!here) {
        return true;
    }
    s_keyset_t kinds;
    size_t n = 0;
    for (auto fr : o) {
        od::field f;
        string_view kind;
        if (!s_field(fr, &f, &kind) || ++n > OBS_MAX_FPS || !kinds.add(kind) ||
            obs_check_fp_kind(kind.data(), kind.size(), err, "fingerprints") != 0) {
            return false;
        }
        char *value = nullptr;
        if (!s_opt_string(f.value(), OBS_MAX_FINGERPRINT, &value)) {
            return false;
        }
        if (value) {
            char name[OBS_MAX_FP_KIND + 1];
            memcpy(name, kind.data(), kind.size());
            name[kind.size()] = '\0';
            obs_fp_set(obs, name, value);
            free(value);
        }
    }
    return true;
}

/*  "append_at": null or an object of field -> number or null (null: INFINITY). */
bool
s_append_at(od::value &v, obs_t *obs, obs_error_t *err)
{
    od::object o;
    bool here = false;
    if (!s_opt_object(v, &o, &here)) {
        return false;
    }
    if (!here) {
        return true;
    }
    s_keyset_t fields;
    size_t n = 0;
    for (auto fr : o) {
        od::field f;
        string_view field;
        char name[64];
        if (!s_field(fr, &f, &field) || ++n > OBS_MAX_FPS + 8 || !fields.add(field) ||
            obs_check_at_field(field.data(), field.size(), err, "append_at") != 0 ||
            field.size() >= sizeof name) {
            return false;
        }
        memcpy(name, field.data(), field.size());
        name[field.size()] = '\0';
        od::value &fv = f.value();
        od::json_type ft;
        double at = INFINITY;
        bool present = false;
        if (!s_type(fv, &ft) || (ft != od::json_type::null && ft != od::json_type::number) ||
            !s_num_field(fv, false, &at, &present, err)) {
            return false;
        }
        obs_at_set(obs, name, present ? at : INFINITY);
    }
    return true;
}

/*  "kd_simhash": null, 16 hex digits, or a non-negative integer. */
bool
s_kd_simhash(od::value &v, obs_t *obs, obs_error_t *err)
{
    od::json_type t;
    if (!s_type(v, &t)) {
        return false;
    }
    if (t == od::json_type::null) {
        return s_null(v);
    }
    if (t == od::json_type::string) {
        string_view s;
        if (v.get_string().get(s) != simdjson::SUCCESS ||
            obs_check_simhash(s.data(), s.size(), &obs->kd_simhash, err, "kd_simhash") != 0) {
            return false;
        }
        obs->has_kd = true;
        return true;
    }
    bool is_int = false;
    int64_t i = 0;
    double d = 0;
    if (t != od::json_type::number || !s_number(v, &is_int, &i, &d) || !is_int || i < 0) {
        return false;
    }
    obs->kd_simhash = (uint64_t)i;
    obs->has_kd = true;
    return true;
}

/*  "asn": null or an integer. */
bool
s_asn(od::value &v, obs_t *obs)
{
    od::json_type t;
    if (!s_type(v, &t)) {
        return false;
    }
    if (t == od::json_type::null) {
        return s_null(v);
    }
    bool is_int = false;
    double d = 0;
    if (t != od::json_type::number || !s_number(v, &is_int, &obs->asn, &d) || !is_int) {
        return false;
    }
    obs->has_asn = true;
    return true;
}

/*  "op": null (upsert) or exactly "upsert", "append" or "delete". */
bool
s_op(od::value &v, obs_t *obs)
{
    od::json_type t;
    if (!s_type(v, &t)) {
        return false;
    }
    if (t == od::json_type::null) {
        return s_null(v);
    }
    string_view s;
    if (t != od::json_type::string || v.get_string().get(s) != simdjson::SUCCESS) {
        return false;
    }
    if (s == "upsert") {
        obs->op = OBS_UPSERT;
    } else if (s == "append") {
        obs->op = OBS_APPEND;
    } else if (s == "delete") {
        obs->op = OBS_DELETE;
    } else {
        return false;
    }
    return true;
}

/*  The top-level keys, in the order of their bits. */
enum {
    S_ID,
    S_OP,
    S_IP,
    S_ASN,
    S_JA3,
    S_JA4,
    S_HASSH,
    S_KD,
    S_TRUTH,
    S_SESSIONS,
    S_FPS,
    S_AT,
    S_N_RECORD_KEYS
};
const string_view s_record_keys[S_N_RECORD_KEYS] = {
    "id",    "op",         "ip",    "asn",      "ja3",          "ja4",
    "hassh", "kd_simhash", "truth", "sessions", "fingerprints", "append_at"};

/*  Walks the record object into obs. False: jansson decides. */
bool
s_record(od::object &o, obs_t *obs, obs_error_t *err)
{
    uint32_t seen = 0;
    s_keyset_t others;
    for (auto fr : o) {
        od::field f;
        string_view key;
        int k = -1;
        if (!s_known_field(fr, s_record_keys, S_N_RECORD_KEYS, &f, &k, &key) ||
            !s_seen(k, key, &seen, &others)) {
            return false;
        }
        od::value &v = f.value();
        bool ok = false;
        switch (k) {
        case S_ID: {
            od::json_type t;
            string_view s;
            ok = s_type(v, &t) && t == od::json_type::string &&
                 s_checked_string(v, OBS_MAX_ID, &s) && !s.empty();
            if (ok) {
                obs->id = xstrndup(s.data(), s.size());
            }
            break;
        }
        case S_OP:
            ok = s_op(v, obs);
            break;
        case S_IP:
            ok = s_opt_string(v, OBS_MAX_SHORT, &obs->ip);
            break;
        case S_ASN:
            ok = s_asn(v, obs);
            break;
        case S_JA3:
            ok = s_opt_string(v, OBS_MAX_FINGERPRINT, &obs->ja3);
            break;
        case S_JA4:
            ok = s_opt_string(v, OBS_MAX_FINGERPRINT, &obs->ja4);
            break;
        case S_HASSH:
            ok = s_opt_string(v, OBS_MAX_FINGERPRINT, &obs->hassh);
            break;
        case S_KD:
            ok = s_kd_simhash(v, obs, err);
            break;
        case S_TRUTH:
            ok = s_truth(v, obs, 1);
            break;
        case S_SESSIONS:
            ok = s_sessions(v, obs, err, 1);
            break;
        case S_FPS:
            ok = s_fingerprints(v, obs, err);
            break;
        case S_AT:
            ok = s_append_at(v, obs, err);
            break;
        default:
            ok = s_skip(v, 1);
            break;
        }
        if (!ok) {
            return false;
        }
    }
    return obs->id != nullptr;
}

/*  Makes room for len bytes of JSON in the thread's parser. */
bool
s_reserve_parser(s_state_t &st, size_t len)
{
    if (st.parser.capacity() >= len) {
        return true;
    }
    size_t cap = st.parser.capacity() ? st.parser.capacity() : S_MIN_CAPACITY;
    while (cap < len) {
        cap *= 2;
    }
    cap = cap > OBS_MAX_RECORD ? (size_t)OBS_MAX_RECORD : cap;
    return st.parser.allocate(cap) == simdjson::SUCCESS;
}

/*  Makes room for a padded copy of len bytes of JSON in the thread's input buffer. */
void
s_reserve_input(s_state_t &st, size_t len)
{
    size_t need = len + JSONIO_PADDING;
    if (st.input_cap >= need) {
        return;
    }
    size_t cap = st.input_cap ? st.input_cap : S_MIN_CAPACITY;
    while (cap < need) {
        cap *= 2;
    }
    free(st.input);
    st.input = (char *)xmalloc(cap);
    st.input_cap = cap;
}

/*  Releases what a large record made the thread hold. */
void
s_shrink(s_state_t &st)
{
    if (st.input_cap > S_KEEP_BYTES) {
        free(st.input);
        st.input = nullptr;
        st.input_cap = 0;
    }
    if (st.parser.capacity() > S_KEEP_BYTES) {
        st.parser = od::parser{OBS_MAX_RECORD};
    }
    if (st.sessions.capacity() > S_KEEP_BYTES / sizeof(obs_session_t)) {
        std::vector<obs_session_t>().swap(st.sessions);
    }
    if (st.commands.capacity() > S_KEEP_BYTES / sizeof(char *)) {
        std::vector<char *>().swap(st.commands);
    }
    if (st.creds.capacity() > S_KEEP_BYTES / sizeof(obs_cred_t)) {
        std::vector<obs_cred_t>().swap(st.creds);
    }
}

/*  The walk of one text (padded: JSONIO_PADDING readable bytes follow it); *out set on
    success. */
bool
s_decode(s_state_t &st, const char *buf, size_t len, bool padded, obs_t **out, obs_error_t *err)
{
    /*  The root must be an object and come first: jansson reads no BOM. */
    size_t lead = 0;
    while (lead < len &&
           (buf[lead] == ' ' || buf[lead] == '\t' || buf[lead] == '\n' || buf[lead] == '\r')) {
        lead++;
    }
    if (lead == len || buf[lead] != '{' || !s_reserve_parser(st, len)) {
        return false;
    }
    const char *text = buf;
    if (!padded) {
        s_reserve_input(st, len);
        memcpy(st.input, buf, len);
        memset(st.input + len, 0, JSONIO_PADDING);
        text = st.input;
    }
    od::document doc;
    od::object root;
    if (st.parser.iterate(text, len, len + JSONIO_PADDING).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(root) != simdjson::SUCCESS) {
        return false;
    }
    obs_t *obs = obs_new();
    bool ok = s_record(root, obs, err);
    /*  Nothing may follow the root object (current_location is OUT_OF_BOUNDS at the end). */
    const char *rest = nullptr;
    ok = ok && doc.current_location().get(rest) == simdjson::OUT_OF_BOUNDS;
    if (ok && obs->op == OBS_DELETE) {
        obs_t *del = obs_new();
        del->op = OBS_DELETE;
        del->id = obs->id;
        obs->id = nullptr;
        obs_destroy(&obs);
        obs = del;
    }
    ok = ok && obs_check_record(obs, err) == 0;
    if (!ok) {
        obs_destroy(&obs);
        return false;
    }
    *out = obs;
    return true;
}

} // namespace

extern "C" int
jsonio_simd_obs_decode(const char *buf, size_t len, bool padded, uint64_t record, obs_t **out,
                       obs_error_t *err)
{
    s_state_t &st = s_state;
    obs_error_reset(err, record, NULL);
    bool ok = len <= OBS_MAX_RECORD && s_decode(st, buf, len, padded, out, err);
    if (len > S_KEEP_BYTES) {
        s_shrink(st);
    }
    return ok ? 0 : JSONIO_SIMD_DECLINED;
}

extern "C" bool
jsonio_simd_available(void)
{
    return true;
}
