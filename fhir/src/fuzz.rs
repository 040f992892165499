//! Entry points for fuzzing (security.md T18): each takes arbitrary bytes, runs everything Carry
//! does with such input from another server or a client, and panics only if an invariant is
//! broken. The cargo-fuzz targets in `fuzz/` call these, and so does the short pass in the
//! test suite (the saved corpus, then generated inputs), so both run exactly the same code.

use crate::model::Bundle;
use crate::security::{read_security, security_codings, SecurityRules};

/// A search or history answer, a transaction answer or an error body from the shared care
/// record: parsed as a Bundle, each resource read as the pull reads it, and the patient match
/// and the deletions worked out. What parses must serialise and parse back to the same Bundle.
pub fn bundle(data: &[u8]) {
    let rules = SecurityRules { social_care: vec![("https://example.org/s".to_owned(), "SOC".to_owned())] };
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(data) {
        for entry in &bundle.entry {
            if let Some(resource) = &entry.resource {
                let _ = crate::pull::read_item(&resource.to_string(), "p1", "https://carry.example/fhir/id/entry", &rules);
                let security = read_security(resource, &rules);
                // The more private answer is never lost: what Carry serves for the label reads
                // back as the same label.
                let served = serde_json::json!({"meta": {"security": security_codings(security.label, &rules)}});
                assert_eq!(read_security(&served, &rules).label, security.label);
            }
            let _ = crate::pull::deletion(entry);
        }
        let _ = crate::pull::deletions(&bundle);
        let _ = crate::patient::match_patient(&bundle, "9434765919", "Sam Patel", "1980-04-02");
        let _ = bundle.next_link();
        let text = serde_json::to_vec(&bundle).unwrap_or_default();
        let again: Bundle = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("a parsed Bundle did not round-trip: {e}"));
        assert_eq!(again, bundle, "a parsed Bundle did not round-trip");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::pull::read_item(text, "p1", "https://carry.example/fhir/id/entry", &SecurityRules::default());
        let _ = crate::pull::reread_item(text, "https://carry.example/fhir/id/entry", &SecurityRules::default());
        let _ = crate::pull::numbers::Numbers::read(text);
    }
    let n = data.first().map_or(0, |b| usize::from(*b % 4));
    let _ = crate::response::read_transaction_response(data, n);
    let _ = crate::response::describe_error(500, data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::response::status_code(text);
        let _ = crate::response::type_and_id(text);
        let _ = crate::pull::minus_overlap(text, 300);
        let _ = crate::pull::later(text, "2026-12-01T00:00:00Z");
        let _ = SecurityRules::parse(text);
    }
}

/// The query of a search on Carry's FHIR API (`name=value&...`, percent-encoded as a client
/// sends it): refused with the parameter named, or accepted, never a panic. An accepted search's
/// `next` query reads back as the same search.
pub fn search(data: &[u8]) {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    if let Ok(search) = crate::api::Search::parse(&pairs) {
        let Ok(id) = "01890a5d-ac96-774b-bcce-b302099a8057".parse::<domain::EntryId>() else { return };
        let last = (domain::Timestamp::from_millis(1_795_341_600_000), id);
        let next = search.next_query(&pairs, last);
        let again: Vec<(String, String)> = url::form_urlencoded::parse(next.as_bytes()).into_owned().collect();
        let reread = crate::api::Search::parse(&again).unwrap_or_else(|e| panic!("a next link Carry made is refused: {e}"));
        assert_eq!((reread.nhs_number, reread.count), (search.nhs_number, search.count));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::api::Scopes::parse(text);
    }
}

/// The saved corpus of a fuzz target (`fuzz/corpus/<target>`), every file, in name order.
#[cfg(test)]
pub(crate) fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// The short pass of security.md T18: the saved corpus (with every crash found so far), then
/// generated inputs, through exactly what the fuzz targets run.
#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_saved_corpus_runs_without_a_panic() {
        for case in corpus("fhir_bundle") {
            bundle(&case);
        }
        for case in corpus("fhir_search") {
            search(&case);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            bundle(&data);
            search(&data);
        }

        #[test]
        fn mutated_corpus_inputs_never_panic(
            seed in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let seeds: Vec<Vec<u8>> = corpus("fhir_bundle").into_iter().chain(corpus("fhir_search")).collect();
            let mut data = seed.get(&seeds).clone();
            for (at, byte) in edits {
                if !data.is_empty() {
                    let i = at.index(data.len());
                    data[i] = byte;
                }
            }
            bundle(&data);
            search(&data);
        }

        #[test]
        fn any_last_updated_value_is_refused_by_name_or_read(value in "\\PC{0,12}", prefix in "(ge|gt|le|lt|g|é|)") {
            let pairs = vec![
                ("patient:identifier".to_owned(), "https://fhir.nhs.uk/Id/nhs-number|9434765919".to_owned()),
                ("_lastUpdated".to_owned(), format!("{prefix}{value}")),
            ];
            if let Err(e) = crate::api::Search::parse(&pairs) {
                prop_assert_eq!(e.param, "_lastUpdated");
            }
        }
    }
}
