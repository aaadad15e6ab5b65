//! The filter-pattern engine promises to be total: any pattern text yields a pattern or an
//! error, and any event message yields a match or not, never a panic or a runaway. Patterns
//! come from configuration and messages from any producer, so both halves are untrusted.
//!
//! Input layout: the pattern, a newline, then the message (patterns never span lines).

#![no_main]

use cairn_shared::filter::FilterPattern;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, message) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(pattern) = FilterPattern::parse(pattern) {
        let _ = pattern.matches(message);
    }
});
