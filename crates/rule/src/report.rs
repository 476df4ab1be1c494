//! How an error reads in a report: the error and its causes, once each.

/// The error and each of its causes, `: `-separated. (The SDK's
/// DisplayErrorContext also appends a Debug dump of the whole chain: too
/// much for a report an operator reads.)
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        // Some errors repeat their cause in their own message.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}
