//! Reading the other server's answers: transaction responses, search pages and
//! OperationOutcomes.

use crate::model::{Bundle, OperationOutcome};

/// What went wrong reading an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The body is not the Bundle it should be.
    #[error("the answer is not a {expected} Bundle: {detail}")]
    NotABundle {
        /// The Bundle type expected.
        expected: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// An entry of the transaction failed.
    #[error("entry {index} was answered {status}")]
    EntryFailed {
        /// Which entry (from 0).
        index: usize,
        /// Its status line.
        status: String,
    },
}

/// The leading number of a status line: "201 Created" and "201" both give 201.
pub fn status_code(status: &str) -> Option<u16> {
    let digits: String = status.trim().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `Type/id` from a location, absolute or relative, with or without `/_history/n`.
pub fn type_and_id(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next().unwrap_or(location);
    let path = match path.find("/_history/") {
        Some(i) => &path[..i],
        None => path,
    };
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let id = parts.next().filter(|s| !s.is_empty())?;
    let rtype = parts.next().filter(|s| s.chars().next().is_some_and(|c| c.is_ascii_uppercase()))?;
    Some(format!("{rtype}/{id}"))
}

/// Reads a transaction-response: every entry must have succeeded (2xx). Returns each entry's
/// `Type/id`, in the order of the request's entries.
pub fn read_transaction_response(body: &[u8], entries: usize) -> Result<Vec<Option<String>>, ResponseError> {
    let bundle: Bundle =
        serde_json::from_slice(body).map_err(|e| ResponseError::NotABundle { expected: "transaction-response", detail: e.to_string() })?;
    if bundle.resource_type != "Bundle" || bundle.bundle_type != "transaction-response" {
        return Err(ResponseError::NotABundle {
            expected: "transaction-response",
            detail: format!("{} of type {}", bundle.resource_type, bundle.bundle_type),
        });
    }
    if bundle.entry.len() != entries {
        return Err(ResponseError::NotABundle {
            expected: "transaction-response",
            detail: format!("{} entries answered for {entries} sent", bundle.entry.len()),
        });
    }
    let mut out = Vec::with_capacity(entries);
    for (index, entry) in bundle.entry.iter().enumerate() {
        let response = entry.response.as_ref().ok_or(ResponseError::EntryFailed { index, status: "(no response)".into() })?;
        match status_code(&response.status) {
            Some(200..=299) => out.push(response.location.as_deref().and_then(type_and_id)),
            _ => return Err(ResponseError::EntryFailed { index, status: response.status.clone() }),
        }
    }
    Ok(out)
}

/// A short account of an error answer for people (the dead-letter list) and logs: the status
/// and, when the body is an OperationOutcome, each issue's code and where it is. Never the
/// diagnostics or the body itself: they can echo a patient's values back.
pub fn describe_error(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<OperationOutcome>(body) {
        Ok(oo) if oo.resource_type == "OperationOutcome" && !oo.issue.is_empty() => {
            let issues: Vec<String> = oo
                .issue
                .iter()
                .take(5)
                .map(|i| match i.expression.first() {
                    Some(at) => format!("{} at {}", i.code, at.chars().take(80).collect::<String>()),
                    None => i.code.clone(),
                })
                .collect();
            format!("HTTP {status}: {}", issues.join("; "))
        }
        _ => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_by_their_leading_number() {
        assert_eq!(status_code("201 Created"), Some(201));
        assert_eq!(status_code("201"), Some(201));
        assert_eq!(status_code(" 200 OK"), Some(200));
        assert_eq!(status_code("Created"), None);
    }

    #[test]
    fn locations_give_type_and_id_whatever_their_form() {
        assert_eq!(type_and_id("http://h/fhir/Observation/abc/_history/1").as_deref(), Some("Observation/abc"));
        assert_eq!(type_and_id("Observation/abc/_history/2").as_deref(), Some("Observation/abc"));
        assert_eq!(type_and_id("Observation/abc").as_deref(), Some("Observation/abc"));
        assert_eq!(type_and_id("abc"), None);
    }

    #[test]
    fn a_transaction_response_with_a_failed_entry_is_an_error_naming_it() {
        let body = br#"{"resourceType":"Bundle","type":"transaction-response","entry":[
            {"response":{"status":"201 Created","location":"Observation/1/_history/1"}},
            {"response":{"status":"412 Precondition Failed"}}]}"#;
        assert_eq!(
            read_transaction_response(body, 2),
            Err(ResponseError::EntryFailed { index: 1, status: "412 Precondition Failed".into() })
        );
        let ok = br#"{"resourceType":"Bundle","type":"transaction-response","entry":[
            {"response":{"status":"200","location":"http://x/fhir/Observation/1/_history/1"}}]}"#;
        assert_eq!(read_transaction_response(ok, 1), Ok(vec![Some("Observation/1".to_owned())]));
        assert!(matches!(read_transaction_response(ok, 2), Err(ResponseError::NotABundle { .. })));
        assert!(matches!(read_transaction_response(b"<html>", 1), Err(ResponseError::NotABundle { .. })));
    }

    #[test]
    fn errors_are_described_by_their_outcome_never_their_body() {
        let oo = br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"value 182 is wrong","expression":["Observation.status"]}]}"#;
        assert_eq!(describe_error(400, oo), "HTTP 400: invalid at Observation.status");
        assert_eq!(describe_error(502, b"secret body text"), "HTTP 502");
    }
}
