//! The readable copy: one HTML page, written part by part as the Bundle is, that reads and
//! prints well (black on white, no scripts, nothing fetched from elsewhere).

use domain::{PrivacyLabel, Timestamp};

/// Text for HTML, with `&`, `<`, `>` and quotes escaped.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:Arial,Helvetica,sans-serif;color:#000;background:#fff;max-width:50rem;margin:1rem auto;\
padding:0 1rem;line-height:1.4}h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:2px solid #000;margin-top:2rem}\
h3{font-size:1.05rem;margin-bottom:.2rem}table{border-collapse:collapse;width:100%}th,td{border:1px solid #000;padding:.25rem;\
text-align:left;vertical-align:top}ol.versions{margin:.2rem 0 1rem}.meta{margin:.1rem 0}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}section.entry,tr{break-inside:avoid}}";

/// The page up to its first part.
pub(super) fn open(patient_name: &str, made_at: Timestamp, labels: &[PrivacyLabel], with_log: bool) -> String {
    let name = escape(patient_name);
    let labels: Vec<&str> = labels.iter().map(|l| l.label()).collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name}: health record from Carry</title><style>{STYLE}</style></head><body>\
         <h1>{name}: health record</h1>\
         <p class=\"meta\">From Carry, held by the patient. Made on {}.</p>\
         <p class=\"meta\">It holds entries labelled: {}.{}</p>",
        escape(&made_at.to_uk_string()),
        escape(&labels.join(", ")),
        if with_log { " It includes who has looked at the record." } else { "" }
    )
}

/// A part's heading.
pub(super) fn heading(text: &str) -> String {
    format!("<h2>{}</h2>", escape(text))
}

/// A paragraph.
pub(super) fn para(text: &str) -> String {
    format!("<p>{}</p>", escape(text))
}

/// One entry with its versions, oldest first.
pub(super) fn entry(title: &str, lines: &[String], versions: &[String]) -> String {
    let mut out = format!("<section class=\"entry\"><h3>{}</h3>", escape(title));
    for l in lines {
        out.push_str(&format!("<p class=\"meta\">{}</p>", escape(l)));
    }
    if !versions.is_empty() {
        out.push_str("<ol class=\"versions\">");
        for v in versions {
            out.push_str(&format!("<li>{}</li>", escape(v)));
        }
        out.push_str("</ol>");
    }
    out.push_str("</section>");
    out
}

/// The start of a table with these column headings.
pub(super) fn table(headings: &[&str]) -> String {
    let cells: String = headings.iter().map(|h| format!("<th scope=\"col\">{}</th>", escape(h))).collect();
    format!("<table><thead><tr>{cells}</tr></thead><tbody>")
}

/// A row of a table.
pub(super) fn row(cells: &[&str]) -> String {
    let cells: String = cells.iter().map(|c| format!("<td>{}</td>", escape(c))).collect();
    format!("<tr>{cells}</tr>")
}

/// The end of a table.
pub(super) const TABLE_CLOSE: &str = "</tbody></table>";

/// The end of the page.
pub(super) const CLOSE: &str = "</body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_the_record_holds_is_escaped() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        let page = open("<script>", Timestamp::from_millis(0), &[PrivacyLabel::General], true);
        assert!(!page.contains("<script>"));
        assert!(entry("a<b", &["c>d".into()], &["e&f".into()]).contains("a&lt;b"));
        assert_eq!(row(&["<i>"]), "<tr><td>&lt;i&gt;</td></tr>");
    }
}
