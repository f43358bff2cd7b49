//! The journal's text search: which index answers a search text ([`Text`]) and the
//! expressions it is given (FTS5 phrases, five-character grams, LIKE patterns).

use crate::JournalQuery;

/// FTS5 phrase for a substring (trigram tokenizer): the text in double quotes, quotes doubled.
pub(super) fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}

pub(super) fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('%');
    s
}

/// Length of the grams in `journal_grams` (migration 0005).
pub(crate) const GRAM: usize = 5;

/// The characters grams are cut from, as the GLOB class `[a-z0-9ß-öø-ÿ]` of migration 0005:
/// ASCII letters and digits and the lower-case Latin-1 letters (the search text is lower case).
/// (Migration 0005 points to `calls.rs`, where this lived when it was written.) PostgreSQL's
/// grams (its migration 0014) are cut from the same characters.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || ('ß'..='ö').contains(&c) || ('ø'..='ÿ').contains(&c)
}

/// The FTS5 query for the grams of `text`: for every run of word characters of at least
/// [`GRAM`] characters, grams that cover the run (every fifth and the last), all required.
/// `None` when `text` has no such run.
pub(super) fn gram_query(text: &str) -> Option<String> {
    let mut grams: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for run in chars.split(|c| !is_word_char(*c)).filter(|r| r.len() >= GRAM) {
        let starts = (0..=run.len() - GRAM).step_by(GRAM).chain([run.len() - GRAM]);
        for start in starts {
            let gram: String = run[start..start + GRAM].iter().collect();
            if !grams.contains(&gram) {
                grams.push(gram);
            }
        }
    }
    (!grams.is_empty()).then(|| {
        grams
            .iter()
            .map(|g| format!("\"{g}\""))
            .collect::<Vec<_>>()
            .join(" AND ")
    })
}

/// The text filter, by what can answer it fast:
/// - a word of five characters or more: the five-character grams (0005), every candidate
///   checked with LIKE, since grams found apart are no substring;
/// - else three characters or more: the trigram index (0003, 0004), exact by itself;
/// - else (one or two characters): LIKE while walking the journal.
pub(super) enum Text {
    None,
    /// An index in journal order: its table, the MATCH expression, the text as a LIKE pattern,
    /// and whether every match must be checked with it (the grams).
    Index {
        table: &'static str,
        expr: String,
        pattern: String,
        verify: bool,
    },
    Like(String),
}

/// The search text as it is compared: trimmed and lower case; `None` when there is none.
pub(super) fn search_text(q: &JournalQuery) -> Option<String> {
    q.q.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

impl Text {
    pub(super) fn of(q: &JournalQuery) -> Text {
        match search_text(q) {
            None => Text::None,
            Some(t) => {
                if let Some(expr) = gram_query(&t) {
                    Text::Index {
                        table: "journal_grams",
                        expr,
                        pattern: like_pattern(&t),
                        verify: true,
                    }
                } else if t.chars().count() >= 3 {
                    Text::Index {
                        table: "journal_fts",
                        expr: fts_phrase(&t),
                        pattern: like_pattern(&t),
                        verify: false,
                    }
                } else {
                    Text::Like(like_pattern(&t))
                }
            }
        }
    }
}
