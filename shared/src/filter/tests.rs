//! The examples on AWS's filter-pattern pages with their documented verdicts, the CIS AWS
//! Foundations Benchmark metric filters (Security Hub CloudWatch.1–14) against real CloudTrail
//! records, the patterns AWS refuses, and a totality sweep.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{ErrorKind, FilterPattern, MAX_PATTERN_LENGTH};

fn compile(pattern: &str) -> FilterPattern {
    FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern:?} should parse: {e}"))
}

fn matches(pattern: &str, message: &str) -> bool {
    compile(pattern).matches(message).is_some()
}

/// Checks which of `events` a pattern matches, by index.
fn check_table(events: &[&str], cases: &[(&str, &[usize])]) {
    for (pattern, expected) in cases {
        let compiled = compile(pattern);
        let got: Vec<usize> = (0..events.len())
            .filter(|&i| events.get(i).is_some_and(|e| compiled.matches(e).is_some()))
            .collect();
        assert_eq!(&got, expected, "pattern {pattern:?}");
    }
}

// ---------------------------------------------------------------- terms (unstructured events)

const UNSTRUCTURED: &[&str] = &[
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
    "[INFO 200] SUCCESSFUL REQUEST",
    "[SUCCESS 200] AUTHORIZED REQUEST",
    "[INFO] REQUEST FAILED",
    "[WARN] UNAUTHORIZED REQUEST",
    "[WARNING 404] PAGE NOT FOUND",
    "[DEBUG 500] DEBUGGING INTERNAL INVALID",
    "[INFO] INVALID ARGUMENTS PROVIDED",
];

#[test]
fn unstructured_examples_from_the_filter_pattern_page() {
    let all: Vec<usize> = (0..UNSTRUCTURED.len()).collect();
    check_table(
        UNSTRUCTURED,
        &[
            ("ERROR", &[0, 1, 2, 3, 4]),
            ("ERROR ARGUMENTS", &[2, 3]),
            ("?ERROR ?ARGUMENTS", &[0, 1, 2, 3, 4, 11]),
            // Mixed with a plain term, `?` terms are ignored: this means `REQUEST`.
            ("?ERROR ?ARGUMENTS REQUEST", &[0, 1, 5, 6, 7, 8]),
            ("\"INTERNAL SERVER ERROR\"", &[4]),
            ("ERROR -ARGUMENTS", &[0, 1, 4]),
            ("\" \"", &all),
            ("", &all),
            ("%AUTHORIZED%", &[1, 6, 8]),
        ],
    );
}

#[test]
fn unstructured_examples_from_the_earlier_page() {
    let events = &[
        "[ERROR] A fatal exception has occurred",
        "Exiting with ERRORCODE: -1",
        "[ERROR] Caught IllegalArgumentException",
        "[ERROR] Unhandled Exception",
        "[WARN] Failed to process the request",
        "[ERROR] Unable to continue: Failed to process the request",
    ];
    check_table(
        events,
        &[
            ("\"ERROR\"", &[0, 1, 2, 3, 5]),
            ("\"ERROR\" - \"Exiting\"", &[0, 2, 3, 5]),
            ("ERROR Exception", &[2, 3]),
            ("Failed to process the request", &[4, 5]),
        ],
    );
    let or_events = &["ERROR WARN message", "ERROR message", "WARN message"];
    check_table(
        or_events,
        &[
            ("ERROR", &[0, 1]),
            ("?ERROR ?WARN", &[0, 1, 2]),
            ("ERROR WARN", &[0]),
            ("ERROR -WARN", &[1]),
        ],
    );
}

#[test]
fn terms_are_case_sensitive_substrings_and_quotes_take_escapes() {
    assert!(matches("error", "an error occurred"));
    assert!(!matches("error", "an ERROR occurred"));
    assert!(matches("ERROR", "ERRORCODE"));
    assert!(matches(r#""say \"hi\"""#, r#"they say "hi" twice"#));
    assert!(matches(r#""C:\temp""#, r"path C:\temp found"));
    assert!(matches(r#"-"user@example.com""#, "nobody here"));
    assert!(!matches(r#"-"user@example.com""#, "from user@example.com"));
    assert!(matches(r#"?"a b" ?zzz"#, "x a b y"));
    assert!(!matches(r#"?"a b" ?zzz"#, "x ab y"));
    assert!(
        compile("ERROR")
            .matches("ERROR")
            .is_some_and(|m| m.extracted_values.is_empty())
    );
}

// ---------------------------------------------------------------- regex

#[test]
fn regex_operator_examples() {
    let cases: &[(&str, &[(&str, bool)])] = &[
        (
            "%^[hc]at%",
            &[("hat trick", true), ("cat", true), ("a cat", false)],
        ),
        (
            "%[hc]at$%",
            &[("the hat", true), ("cat", true), ("cats", false)],
        ),
        (
            "%colou?r%",
            &[("color", true), ("colour", true), ("colr", false)],
        ),
        ("%[abcx-z]%", &[("y", true), ("d", false)]),
        (
            "%a{3,5}%",
            &[("aa", false), ("aaa", true), ("baaaab", true)],
        ),
        ("%a{3,}%", &[("aa", false), ("aaaaaaa", true)]),
        ("%^a{,2}b%", &[("aab", true), ("b", true), ("aaab", false)]),
        (
            "%gra|ey%",
            &[("gray", true), ("grey", true), ("gry", false)],
        ),
        (
            "%^starting|^initializing|^shutting down%",
            &[
                ("starting x", true),
                ("initializing x", true),
                ("shutting down", true),
                ("skipping initializing", false),
            ],
        ),
        ("%\\[.\\]%", &[("[a]", true), ("[7]", true), ("[]", false)]),
        (
            "%10\\.10\\.0\\.1%",
            &[("ip 10.10.0.1", true), ("10010,051", false)],
        ),
        ("%10.10.0.1%", &[("10010,051", true)]),
        ("%ab*c%", &[("ac", true), ("abbbc", true), ("adc", false)]),
        ("%ab[0-9]*%", &[("ab", true), ("ab129", true)]),
        ("%ab+c%", &[("abc", true), ("ac", false)]),
        ("%.at%", &[("hat", true), (" at", true), ("at", false)]),
        ("%\\d%", &[("a1", true), ("ab", false)]),
        ("%^\\D+$%", &[("ab", true), ("a1", false)]),
        ("%a\\sb%", &[("a b", true), ("a\tb", true), ("ab", false)]),
        ("%^\\S+$%", &[("ab", true), ("a b", false)]),
        ("%^\\w+$%", &[("a_1", true), ("a-1", false)]),
        ("%\\W%", &[("a-1", true), ("a_1", false)]),
        ("%\\x3A%", &[("a:b", true), ("ab", false)]),
        ("%\\x28%", &[("f(x)", true), ("fx", false)]),
        ("%[\\d\\s]x%", &[("1x", true), (" x", true), ("ax", false)]),
        (
            "%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%",
            &[("from 192.168.0.1", true), ("from a.b.c.d", false)],
        ),
        (
            "%[Ee]rror|[Ff]ail%",
            &[("Error", true), ("fail", true), ("ok", false)],
        ),
        (
            "%user@host:/a;b,c=d#e-f_g%",
            &[("user@host:/a;b,c=d#e-f_g", true)],
        ),
    ];
    for (pattern, events) in cases {
        for (event, expected) in *events {
            assert_eq!(
                matches(pattern, event),
                *expected,
                "{pattern:?} on {event:?}"
            );
        }
    }
}

#[test]
fn regex_dialect_refusals() {
    for pattern in [
        "%something!%", // unsupported character
        "%(abc)%",      // no subpatterns
        "%a(b%",        // stray parenthesis
        "%é%",          // multi-byte
        "%\\n%",        // unsupported escape
        "%\\(%",        // '(' only as \x28
        "%\\x4%",       // \x needs two hex digits
        "%\\xFF%",      // not ASCII
        "%[\\D]%",      // negated shorthand inside a class
        "%[abc%",       // unclosed class
        "%a{x}%",       // not a repetition
        "%a{2%",        // unclosed repetition
        "%a}%",         // stray '}'
        "%*a%",         // repetition of nothing
        "%%",           // empty
        "%abc",         // unterminated
        "%abc\\%",      // an escaped '%' does not close
        "%a% ERROR",    // a regex stands alone among terms
        "ERROR %a%",    // bare term with '%'
        "%a'b%",        // quote characters are not in the dialect
    ] {
        let error = FilterPattern::parse(pattern).err();
        assert!(error.is_some(), "{pattern:?} should be refused");
    }
    let error = FilterPattern::parse("%ab(c)%").err();
    assert!(
        error
            .as_ref()
            .is_some_and(|e| e.position == 3 && matches!(e.kind, ErrorKind::Regex { .. })),
        "{error:?}"
    );
    assert!(error.is_some_and(|e| e.to_string().contains("subpattern")));
}

// ---------------------------------------------------------------- JSON

const JSON_EVENT: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c","ThisFlag":true}"#;

#[test]
fn json_string_examples() {
    let cases: &[(&str, bool)] = &[
        (r#"{ $.eventType = "UpdateTrail" }"#, true),
        ("{ $.eventType = UpdateTrail }", true),
        (r#"{ $.eventType = "Update" }"#, false),
        ("{ $.sourceIPAddress != 123.123.* }", true),
        ("{ $.sourceIPAddress != 111.111.* }", false),
        (r#"{ $.arrayKey[0] = "value" }"#, true),
        (r#"{ $.arrayKey[1] = "value" }"#, false),
        ("{ $.eventType = %Trail% }", true),
        ("{ $.arrayKey[*] = %val.{2}% }", true),
        (r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }", true),
        (r"{ $.* = %222\.222% }", false),
        (r#"{ $.['cluster.name'] = "c" }"#, true),
        (r#"{ $.['cluster.name'] = "d" }"#, false),
        ("{ $.objectList[1].id = 2 }", true),
        ("{ $.objectList[0].id = 2 }", false),
        ("{ $.objectList[*].id = 2 }", true),
        (r#"{ $.objectList[1].name = "b" }"#, true),
        ("{ $.SomeObject IS NULL }", true),
        ("{ $.eventType IS NULL }", false),
        ("{ $.SomeOtherObject NOT EXISTS }", true),
        ("{ $.eventType NOT EXISTS }", false),
        ("{ $.SomeObject NOT EXISTS }", false),
        ("{ $.ThisFlag IS TRUE }", true),
        ("{ $.ThisFlag IS FALSE }", false),
        // Wildcards: at the start, at the end, both; an inner star is literal.
        ("{ $.eventType = *Trail }", true),
        ("{ $.eventType = Update* }", true),
        ("{ $.eventType = *date* }", true),
        ("{ $.eventType = Up*Trail }", false),
        (r#"{ $.eventType = "Ev*ent" }"#, false),
        // Selectors landing on an array or object, or on nothing, satisfy no comparison.
        (r#"{ $.arrayKey = "value" }"#, false),
        (r#"{ $.arrayKey != "value" }"#, false),
        (r#"{ $.objectList[0] != "x" }"#, false),
        (r#"{ $.missing != "x" }"#, false),
        (r#"{ $.eventType.deeper = "x" }"#, false),
        (r#"{ $.arrayKey[5] = "value" }"#, false),
    ];
    for (pattern, expected) in cases {
        assert_eq!(matches(pattern, JSON_EVENT), *expected, "{pattern}");
    }
}

#[test]
fn json_numeric_examples() {
    let cases: &[(&str, &str, bool)] = &[
        ("{ $.bandwidth > 75 }", r#"{"bandwidth": 80}"#, true),
        ("{ $.bandwidth > 75 }", r#"{"bandwidth": 75}"#, false),
        ("{ $.latency < 50 }", r#"{"latency": 49.5}"#, true),
        ("{ $.refreshRate >= 60 }", r#"{"refreshRate": 60}"#, true),
        ("{ $.responseTime <= 5 }", r#"{"responseTime": 6}"#, false),
        ("{ $.errorCode = 400}", r#"{"errorCode": 400}"#, true),
        ("{ $.errorCode = 400}", r#"{"errorCode": 400.0}"#, true),
        ("{ $.errorCode != 500 }", r#"{"errorCode": 400}"#, true),
        ("{ $.errorCode != 500 }", r#"{"errorCode": 500}"#, false),
        ("{ $.number[0] = 1e+3 }", r#"{"number": [1000]}"#, true),
        ("{ $.number[0] != 1e-3 }", r#"{"number": [0.001]}"#, false),
        ("{ $.latency >= 500 }", r#"{"latency": 501}"#, true),
        ("{ $.numbers[0] < 10e3 }", r#"{"numbers": [9999]}"#, true),
        ("{ $.numbers[0] < 10e-3 }", r#"{"numbers": [0.02]}"#, false),
        (
            "{ $.processes[4].averageRuntime <= 55.5 }",
            r#"{"processes": [0,0,0,0,{"averageRuntime": 55.5}]}"#,
            true,
        ),
        ("{ $.latency > +1000 }", r#"{"latency": 1001}"#, true),
        ("{ $.latency > -1 }", r#"{"latency": -0.5}"#, true),
        ("{ $.latency = * }", r#"{"latency": 12}"#, true),
        ("{ $.latency = * }", r#"{"other": 12}"#, false),
        ("{ $.latency > 5 }", r#"{"latency": "fast"}"#, false),
        // An account ID compared unquoted against CloudTrail's string field.
        (
            "{ $.recipientAccountId = 123456789012 }",
            r#"{"recipientAccountId": "123456789012"}"#,
            true,
        ),
        ("{ $.users = 1 }", r#"{"users": [1, 2, 3]}"#, false),
        ("{ $.users != 1 }", r#"{"users": [1, 2, 3]}"#, false),
        ("{ $.users[*] = 2 }", r#"{"users": [1, 2, 3]}"#, true),
    ];
    for (pattern, event, expected) in cases {
        assert_eq!(matches(pattern, event), *expected, "{pattern} on {event}");
    }
}

#[test]
fn json_compound_examples() {
    let event = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}"#;
    let cases: &[(&str, bool)] = &[
        (
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            true,
        ),
        (
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            true,
        ),
        (
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            false,
        ),
        (
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            false,
        ),
        ("{ $.coordinates[1][2] = 6 }", true),
        ("{ $.coordinates[*][0] = 7 }", true),
        ("{ $.user.* = 1 }", true),
        ("{$.user.id=1&&$.actions[0]=GET}", true),
        (r#"{ $.foo = bar || $.foo = baz }"#, false),
    ];
    for (pattern, expected) in cases {
        assert_eq!(matches(pattern, event), *expected, "{pattern}");
    }
    check_table(
        &[r#"{"foo": "bar"}"#, r#"{"foo": "baz"}"#],
        &[
            ("{$.foo = bar}", &[0]),
            ("{$.foo = baz }", &[1]),
            ("{$.foo = bar || $.foo = baz }", &[0, 1]),
        ],
    );
}

#[test]
fn json_patterns_never_match_other_events() {
    for event in [
        "not json",
        "",
        "{",
        r#"{"a": 1} trailing"#,
        "[1, 2",
        "ERROR {\"a\":1}",
    ] {
        assert!(!matches("{ $.a = 1 }", event), "{event:?}");
        assert!(!matches("{ $.a NOT EXISTS }", event), "{event:?}");
    }
    // Escaped keys and values are decoded before comparing.
    assert!(matches(r#"{ $.key = "a\"b" }"#, r#"{"k\u0065y": "a\"b"}"#));
}

// ---------------------------------------------------------------- space-delimited

const APACHE: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;

fn extracted(pattern: &str, event: &str) -> Option<BTreeMap<String, String>> {
    compile(pattern).matches(event).map(|m| m.extracted_values)
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn delimited_examples_with_extracted_values() {
    let all_named = map(&[
        ("$ip", "127.0.0.1"),
        ("$user", "Prod"),
        ("$username", "frank"),
        ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
        ("$request", "GET /index.html HTTP/1.0"),
        ("$status_code", "404"),
        ("$bytes", "1534"),
    ]);
    assert_eq!(
        extracted(
            r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
            APACHE
        ),
        Some(all_named.clone())
    );
    assert_eq!(
        extracted(
            "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
            APACHE
        ),
        Some(all_named)
    );
    assert_eq!(
        extracted("[..., request =*.html*, status_code = 4*, bytes]", APACHE),
        Some(map(&[
            ("$1", "127.0.0.1"),
            ("$2", "Prod"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /index.html HTTP/1.0"),
            ("$status_code", "404"),
            ("$bytes", "1534"),
        ]))
    );
    // The earlier page's example: a trailing empty slot is extracted by position.
    assert_eq!(
        extracted("[..., request=*.html*, status_code=4*,]", APACHE),
        Some(map(&[
            ("$1", "127.0.0.1"),
            ("$2", "Prod"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /index.html HTTP/1.0"),
            ("$status_code", "404"),
            ("$7", "1534"),
        ]))
    );
    let verdicts: &[(&str, bool)] = &[
        (
            "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code, bytes > 2000]",
            false,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 200, bytes]",
            false,
        ),
        (
            "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 4* && status_code != 404, bytes]",
            false,
        ),
        ("[ip, user, ..., status_code, bytes]", true),
        ("[ip, user, ...]", true),
        (r"[ip=%127\.0\.0\.[2-9]%, ...]", false),
        ("[..., status_code, bytes]", true),
        ("[..., status_code = 5*, bytes]", false),
    ];
    for (pattern, expected) in verdicts {
        assert_eq!(matches(pattern, APACHE), *expected, "{pattern}");
    }
}

#[test]
fn delimited_term_order_examples() {
    let events = &[
        "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
        "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
        "WARNING 09/25/2014 12:00:02 Invalid user request",
        "ERROR 09/25/2014 12:00:02 Failed to process request",
    ];
    check_table(
        events,
        &[
            ("[w1=ERROR, w2]", &[3]),
            ("[w1=ERROR || w1=WARNING, w2]", &[2, 3]),
            ("[w1!=ERROR && w1!=WARNING, w2]", &[0, 1]),
            (
                "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
                &[0],
            ),
            (
                "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
                &[1],
            ),
        ],
    );
    // The last slot takes the rest of the event when there is no `...`.
    assert_eq!(
        extracted(
            "[w1=ERROR, w2]",
            "ERROR 09/25/2014 12:00:02 Failed to process request"
        ),
        Some(map(&[
            ("$w1", "ERROR"),
            ("$w2", "09/25/2014 12:00:02 Failed to process request")
        ]))
    );
    let or_events = &["ERROR WARN message", "ERROR message", "WARN message"];
    check_table(
        or_events,
        &[
            ("[w1=ERROR, w2]", &[0, 1]),
            ("[w1=ERROR || w1=WARN, w2]", &[0, 1, 2]),
        ],
    );
}

#[test]
fn delimited_alignment_edges() {
    assert!(!matches("[a, b, c]", "one two"));
    assert!(matches("[a, ..., z=end]", "start x y end"));
    assert!(!matches("[a, ..., z=end]", "start x y stop"));
    assert!(matches("[..., x=2, ..., y=4, ...]", "1 2 3 4 5"));
    assert!(!matches("[..., x=4, ..., y=2, ...]", "1 2 3 4 5"));
    assert!(matches("[...]", ""));
    assert!(matches("[]", ""));
    assert!(!matches("[a]", ""));
    assert!(matches("[a = \"x y\"]", "\"x y\""));
    assert!(matches("[a, b = 1.5e3]", "q 1500"));
    assert!(matches("[a, b < 10]", "q -3"));
    assert!(!matches("[a, b < 10]", "q abc"));
    assert!(matches("[a, b != 200]", "q -"));
    // A condition may name another slot's field.
    assert!(matches("[a = x && b = y, b]", "x y"));
    assert!(!matches("[a = x && b = z, b]", "x y"));
    assert!(!matches("[a = x && nobody = y, b]", "x y"));
}

// ---------------------------------------------------------------- refusals and limits

#[test]
fn patterns_aws_refuses() {
    let long = "a".repeat(MAX_PATTERN_LENGTH + 1);
    let refused: &[&str] = &[
        &long,
        "ERROR:", // non-alphanumeric term needs quotes
        "foo-bar",
        "\"unterminated",
        "\"ab\"cd",
        "{ $.a = 1", // unclosed JSON pattern
        "{ $.a = 1 } trailing",
        "{ a = 1 }", // selectors start with $
        "{ $ = 1 }",
        "{ $. = 1 }",
        "{ $.a[x] = 1 }",
        "{ $.a }",
        "{ $.a IS NOT NULL }", // IS NOT is not supported
        "{ $.a EXISTS }",      // nor EXISTS
        "{ $.a IS MAYBE }",
        "{ $.a > abc }", // numeric operators need numbers
        "{ $.a < %x% }",
        "{ $.a >= 4* }",
        "{ $.a = user@example.com }", // '@' needs quotes
        "{ $.a[*].b[*] = 1 }",        // one wildcard per selector
        "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }", // three per pattern
        "{ $.a = %x% || $.b = %y% || $.c = %z% }", // two regexes per pattern
        "[a = %x%, b = %y%, c = %z%]",
        "{ ($.a = 1 }",
        "{ $.a = 1 && }",
        "[a, b",
        "[a b]",
        "[a = ]",
        "[a ~ 1]",
        "[a, b] x",
        "[a > x]",
    ];
    for pattern in refused {
        let result = FilterPattern::parse(pattern);
        assert!(result.is_err(), "{pattern:?} should be refused");
    }
    let accepted = "a".repeat(MAX_PATTERN_LENGTH);
    assert!(FilterPattern::parse(&accepted).is_ok());
    let too_long = FilterPattern::parse(&long).err();
    assert!(too_long.is_some_and(|e| e.to_string().contains("less than or equal to 1024")));
    let nested = format!("{{ {}$.a = 1{} }}", "(".repeat(40), ")".repeat(40));
    assert!(
        matches!(FilterPattern::parse(&nested), Err(e) if matches!(e.kind, ErrorKind::TooDeep { .. }))
    );
    let error = FilterPattern::parse("ERROR \"ok\" foo-bar").err();
    assert!(error.is_some_and(|e| e.position == 11 && e.to_string().contains("foo-bar")));
    // Two regexes are within the quota; three wildcards too.
    assert!(FilterPattern::parse("{ $.a = %x% && $.b = %y% }").is_ok());
    assert!(FilterPattern::parse("{ $.a[*] = 1 || $.b[*] = 1 || $.* = 1 }").is_ok());
}

/// Parsing and matching are total: a deterministic sweep of generated patterns over
/// generated events finishes without panicking.
#[test]
fn parsing_and_matching_never_panic() {
    let alphabet: Vec<char> = "{}[]()$.*%\"'\\ ,=!<>&|?-+_:#@/;^ae1é0xdIS NOTEXISTSRUFL\t"
        .chars()
        .collect();
    let events = [
        "",
        "a b c",
        r#"{"a": [1, {"b": "x"}], "c": null, "d": true}"#,
        r#"[1, 2, 3]"#,
        r#"x [y z] "w v" 1e3 -4"#,
        APACHE,
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let prefixes = ["", "{ $.", "[", "%", "{ ", "[a, ", "{ $.a = "];
    let mut parsed = 0;
    for round in 0..20_000u64 {
        let len = usize::try_from(next() % 24).unwrap_or(0);
        let prefix = prefixes
            .get(usize::try_from(round % 7).unwrap_or(0))
            .copied()
            .unwrap_or("");
        let mut pattern = prefix.to_owned();
        for _ in 0..len {
            let index = usize::try_from(next() % alphabet.len() as u64).unwrap_or(0);
            pattern.push(alphabet.get(index).copied().unwrap_or('a'));
        }
        if let Ok(compiled) = FilterPattern::parse(&pattern) {
            parsed += 1;
            for event in events {
                let _ = compiled.matches(event);
            }
        }
    }
    assert!(
        parsed > 100,
        "the sweep should reach the matchers ({parsed} parsed)"
    );
}

// ---------------------------------------------------------------- CIS benchmark on CloudTrail

fn fixture_records() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/stratus_red_team_detonation_logs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut records = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture");
        let document: Value = serde_json::from_str(&text).expect("fixture JSON");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for record in document["Records"].as_array().expect("Records").iter() {
            records.push((name.clone(), record.clone()));
        }
    }
    records
}

/// A real record with some fields replaced, for the benchmark controls whose events the
/// detonation logs do not contain.
fn derived(records: &[(String, Value)], file: &str, changes: &[(&str, Value)]) -> Value {
    let mut record = records
        .iter()
        .find(|(f, _)| f == file)
        .map(|(_, r)| r.clone())
        .expect("fixture record");
    for (path, value) in changes {
        let mut node = &mut record;
        let parts: Vec<&str> = path.split('.').collect();
        let (last, parents) = parts.split_last().expect("a path");
        for part in parents {
            node = &mut node[*part];
        }
        node[*last] = value.clone();
    }
    record
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn event_name_in(names: &'static [&'static str]) -> impl Fn(&Value) -> bool {
    move |r| names.contains(&text(&r["eventName"]))
}

struct Control {
    id: &'static str,
    pattern: &'static str,
    /// An independent statement of the control, to check every fixture record against.
    oracle: Box<dyn Fn(&Value) -> bool>,
    /// Fixture files holding at least one record the control must flag.
    real_hits: &'static [&'static str],
    /// Changes to a real record that make it one the control must flag.
    derived_hit: (&'static str, Vec<(&'static str, Value)>),
}

fn controls() -> Vec<Control> {
    const IAM: &[&str] = &[
        "DeleteGroupPolicy",
        "DeleteRolePolicy",
        "DeleteUserPolicy",
        "PutGroupPolicy",
        "PutRolePolicy",
        "PutUserPolicy",
        "CreatePolicy",
        "DeletePolicy",
        "CreatePolicyVersion",
        "DeletePolicyVersion",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "AttachGroupPolicy",
        "DetachGroupPolicy",
    ];
    const TRAIL: &[&str] = &[
        "CreateTrail",
        "UpdateTrail",
        "DeleteTrail",
        "StartLogging",
        "StopLogging",
    ];
    const S3: &[&str] = &[
        "PutBucketAcl",
        "PutBucketPolicy",
        "PutBucketCors",
        "PutBucketLifecycle",
        "PutBucketReplication",
        "DeleteBucketPolicy",
        "DeleteBucketCors",
        "DeleteBucketLifecycle",
        "DeleteBucketReplication",
    ];
    const CONFIG: &[&str] = &[
        "StopConfigurationRecorder",
        "DeleteDeliveryChannel",
        "PutDeliveryChannel",
        "PutConfigurationRecorder",
    ];
    const SG: &[&str] = &[
        "AuthorizeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress",
        "CreateSecurityGroup",
        "DeleteSecurityGroup",
    ];
    const NACL: &[&str] = &[
        "CreateNetworkAcl",
        "CreateNetworkAclEntry",
        "DeleteNetworkAcl",
        "DeleteNetworkAclEntry",
        "ReplaceNetworkAclEntry",
        "ReplaceNetworkAclAssociation",
    ];
    const GATEWAY: &[&str] = &[
        "CreateCustomerGateway",
        "DeleteCustomerGateway",
        "AttachInternetGateway",
        "CreateInternetGateway",
        "DeleteInternetGateway",
        "DetachInternetGateway",
    ];
    const ROUTE: &[&str] = &[
        "CreateRoute",
        "CreateRouteTable",
        "ReplaceRoute",
        "ReplaceRouteTableAssociation",
        "DeleteRouteTable",
        "DeleteRoute",
        "DisassociateRouteTable",
    ];
    const VPC: &[&str] = &[
        "CreateVpc",
        "DeleteVpc",
        "ModifyVpcAttribute",
        "AcceptVpcPeeringConnection",
        "CreateVpcPeeringConnection",
        "DeleteVpcPeeringConnection",
        "RejectVpcPeeringConnection",
        "AttachClassicLinkVpc",
        "DetachClassicLinkVpc",
        "DisableVpcClassicLink",
        "EnableVpcClassicLink",
    ];
    const LOGIN: &str = "aws.initial-access.console-login-without-mfa.json";
    const STOP: &str = "aws.defense-evasion.cloudtrail-stop.json";
    vec![
        Control {
            id: "CloudWatch.1 root user",
            pattern: r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
            oracle: Box::new(|r| {
                text(&r["userIdentity"]["type"]) == "Root"
                    && r["userIdentity"].get("invokedBy").is_none()
                    && r["eventType"].is_string()
                    && text(&r["eventType"]) != "AwsServiceEvent"
            }),
            real_hits: &[],
            derived_hit: (
                STOP,
                vec![(
                    "userIdentity",
                    json!({"type": "Root", "accountId": "111122223333"}),
                )],
            ),
        },
        Control {
            id: "CloudWatch.2 unauthorized API calls",
            pattern: r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
            oracle: Box::new(|r| {
                text(&r["errorCode"]).ends_with("UnauthorizedOperation")
                    || text(&r["errorCode"]).starts_with("AccessDenied")
            }),
            real_hits: &[
                "aws.execution.ec2-launch-unusual-instances.json",
                "aws.defense-evasion.organizations-leave.json",
            ],
            derived_hit: (STOP, vec![("errorCode", json!("AccessDeniedException"))]),
        },
        Control {
            id: "CloudWatch.3 console sign-in without MFA",
            pattern: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
            oracle: Box::new(|r| {
                text(&r["eventName"]) == "ConsoleLogin"
                    && r["additionalEventData"]["MFAUsed"].is_string()
                    && text(&r["additionalEventData"]["MFAUsed"]) != "Yes"
            }),
            real_hits: &[LOGIN],
            derived_hit: (LOGIN, vec![]),
        },
        Control {
            id: "CloudWatch.4 IAM policy changes",
            pattern: "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
            oracle: Box::new(event_name_in(IAM)),
            real_hits: &[
                "aws.persistence.iam-create-admin-user.json",
                "aws.persistence.iam-create-backdoor-role.json",
            ],
            derived_hit: (STOP, vec![("eventName", json!("PutGroupPolicy"))]),
        },
        Control {
            id: "CloudWatch.5 CloudTrail configuration changes",
            pattern: "{($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)||($.eventName=StartLogging)||($.eventName=StopLogging)}",
            oracle: Box::new(event_name_in(TRAIL)),
            real_hits: &[STOP, "aws.defense-evasion.cloudtrail-delete.json"],
            derived_hit: (STOP, vec![("eventName", json!("UpdateTrail"))]),
        },
        Control {
            id: "CloudWatch.6 failed console authentication",
            pattern: r#"{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}"#,
            oracle: Box::new(|r| {
                text(&r["eventName"]) == "ConsoleLogin"
                    && text(&r["errorMessage"]) == "Failed authentication"
            }),
            real_hits: &[],
            derived_hit: (
                LOGIN,
                vec![("errorMessage", json!("Failed authentication"))],
            ),
        },
        Control {
            id: "CloudWatch.7 disabling or deleting CMKs",
            pattern: "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}",
            oracle: Box::new(|r| {
                text(&r["eventSource"]) == "kms.amazonaws.com"
                    && ["DisableKey", "ScheduleKeyDeletion"].contains(&text(&r["eventName"]))
            }),
            real_hits: &[],
            derived_hit: (
                STOP,
                vec![
                    ("eventSource", json!("kms.amazonaws.com")),
                    ("eventName", json!("ScheduleKeyDeletion")),
                ],
            ),
        },
        Control {
            id: "CloudWatch.8 S3 bucket policy changes",
            pattern: "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
            oracle: Box::new(|r| {
                text(&r["eventSource"]) == "s3.amazonaws.com" && S3.contains(&text(&r["eventName"]))
            }),
            real_hits: &[],
            derived_hit: (
                STOP,
                vec![
                    ("eventSource", json!("s3.amazonaws.com")),
                    ("eventName", json!("PutBucketPolicy")),
                ],
            ),
        },
        Control {
            id: "CloudWatch.9 AWS Config changes",
            pattern: "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder))}",
            oracle: Box::new(|r| {
                text(&r["eventSource"]) == "config.amazonaws.com"
                    && CONFIG.contains(&text(&r["eventName"]))
            }),
            real_hits: &[],
            derived_hit: (
                STOP,
                vec![
                    ("eventSource", json!("config.amazonaws.com")),
                    ("eventName", json!("StopConfigurationRecorder")),
                ],
            ),
        },
        Control {
            id: "CloudWatch.10 security group changes",
            pattern: "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
            oracle: Box::new(event_name_in(SG)),
            real_hits: &["aws.exfiltration.ec2-security-group-open-port-22-ingress.json"],
            derived_hit: (STOP, vec![("eventName", json!("DeleteSecurityGroup"))]),
        },
        Control {
            id: "CloudWatch.11 NACL changes",
            pattern: "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}",
            oracle: Box::new(event_name_in(NACL)),
            real_hits: &[],
            derived_hit: (STOP, vec![("eventName", json!("ReplaceNetworkAclEntry"))]),
        },
        Control {
            id: "CloudWatch.12 network gateway changes",
            pattern: "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
            oracle: Box::new(event_name_in(GATEWAY)),
            real_hits: &[],
            derived_hit: (STOP, vec![("eventName", json!("AttachInternetGateway"))]),
        },
        Control {
            id: "CloudWatch.13 route table changes",
            pattern: "{($.eventSource=ec2.amazonaws.com) && (($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable))}",
            oracle: Box::new(|r| {
                text(&r["eventSource"]) == "ec2.amazonaws.com"
                    && ROUTE.contains(&text(&r["eventName"]))
            }),
            real_hits: &[],
            derived_hit: (
                "aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
                vec![("eventName", json!("CreateRoute"))],
            ),
        },
        Control {
            id: "CloudWatch.14 VPC changes",
            pattern: "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
            oracle: Box::new(event_name_in(VPC)),
            real_hits: &[],
            derived_hit: (STOP, vec![("eventName", json!("CreateVpc"))]),
        },
    ]
}

#[test]
fn cis_benchmark_patterns_on_real_cloudtrail_records() {
    let records = fixture_records();
    assert!(records.len() > 250, "{} fixture records", records.len());
    let messages: Vec<String> = records.iter().map(|(_, r)| r.to_string()).collect();
    for control in controls() {
        let pattern = compile(control.pattern);
        let mut hits = Vec::new();
        for ((file, record), message) in records.iter().zip(&messages) {
            let got = pattern.matches(message).is_some();
            assert_eq!(
                got,
                (control.oracle)(record),
                "{} on a {} record of {file}",
                control.id,
                record["eventName"]
            );
            if got {
                hits.push(file.as_str());
            }
        }
        for file in control.real_hits {
            assert!(
                hits.contains(file),
                "{} should flag a record of {file}",
                control.id
            );
        }
        assert!(
            hits.len() < records.len(),
            "{} must leave most records alone",
            control.id
        );
        let (file, changes) = &control.derived_hit;
        let record = derived(&records, file, changes);
        assert!(
            (control.oracle)(&record),
            "{}: the derived record is not a hit",
            control.id
        );
        assert!(
            pattern.matches(&record.to_string()).is_some(),
            "{} should flag {record}",
            control.id
        );
    }
}

#[test]
fn cis_console_login_variants() {
    let records = fixture_records();
    let login = derived(
        &records,
        "aws.initial-access.console-login-without-mfa.json",
        &[],
    );
    let with_mfa = derived(
        &records,
        "aws.initial-access.console-login-without-mfa.json",
        &[("additionalEventData.MFAUsed", json!("Yes"))],
    );
    let pattern = compile(
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
    );
    assert!(pattern.matches(&login.to_string()).is_some());
    assert!(pattern.matches(&with_mfa.to_string()).is_none());
    // A term pattern over the same record as raw text.
    let raw = login.to_string();
    assert!(matches(r#"ConsoleLogin -"MFAUsed\":\"Yes""#, &raw));
    assert!(!matches(r#"ConsoleLogin -"MFAUsed\":\"No""#, &raw));
}
