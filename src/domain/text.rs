//! Text from clients that other people read or that names an account: one spelling per
//! character sequence (NFKC), no invisible or control characters, and the confusable skeleton
//! (Unicode Technical Standard #39) that tells look-alikes apart from different strings.
//!
//! Without this, `demo@example.com` could be registered again with a Cyrillic `е`, a
//! zero-width space or fullwidth letters, and a name could carry a right-to-left override
//! that makes it read backwards on every screen that shows it.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::{Error, Result};

/// ZERO WIDTH NON-JOINER: part of correct spelling in Persian and several Indic scripts.
const ZWNJ: char = '\u{200C}';
/// ZERO WIDTH JOINER: the same, and the glue of emoji sequences.
const ZWJ: char = '\u{200D}';

/// An identifier (an email): NFKC, trimmed, no character outside the visible ones.
pub fn identifier(raw: &str, field: &'static str) -> Result<String> {
    normalize(raw, field, false)
}

/// A display name (a person's or a company's): as [`identifier`], but the two joiners that
/// spelling in some scripts needs are kept. A name names nothing uniquely, so an invisible
/// joiner in it cannot impersonate anyone a look-alike name could not already.
pub fn name(raw: &str, field: &'static str) -> Result<String> {
    normalize(raw, field, true)
}

/// The UTS #39 skeleton of `s`: two strings that look alike have the same one (`paypal` with
/// a Cyrillic `а`, `rn` and `m`, `l` and `1`). Expects text already through [`identifier`].
pub fn skeleton(s: &str) -> String {
    unicode_security::skeleton(s).collect()
}

fn normalize(raw: &str, field: &'static str, joiners: bool) -> Result<String> {
    // NFKC first: it maps compatibility forms (fullwidth letters, no-break and ideographic
    // spaces, ligatures) to their plain spelling, which the checks below then see.
    let text: String = raw.nfkc().collect();
    if let Some(c) = text
        .chars()
        .find(|&c| refused(c) && !(joiners && (c == ZWNJ || c == ZWJ)))
    {
        return Err(Error::bad_input(
            field,
            format!(
                "{field} must not contain invisible, control or unassigned characters \
                 (found U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    Ok(text.trim().to_owned())
}

/// Characters that change how text around them reads, or show nothing: controls (Cc),
/// formatting (Cf: zero-width spaces, bidirectional overrides), line and paragraph
/// separators, private-use and unassigned code points.
fn refused(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_field(result: Result<String>) -> Option<&'static str> {
        match result {
            Err(Error::BadInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn compatibility_forms_become_their_plain_spelling() {
        assert_eq!(
            identifier("ｄｅｍｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "email").unwrap(),
            "demo@example.com"
        );
        assert_eq!(
            name("\u{3000}Ada\u{A0}Lovelace ", "name").unwrap(),
            "Ada Lovelace"
        );
        assert_eq!(name("ﬁne", "name").unwrap(), "fine");
        // Composed and decomposed accents are one spelling.
        assert_eq!(name("Jose\u{301}", "name").unwrap(), "José");
    }

    #[test]
    fn invisible_and_control_characters_are_refused_with_the_field() {
        for bad in [
            "demo\u{200B}@example.com", // zero-width space (Cf)
            "\u{202E}moc.elpmaxe@omed", // right-to-left override (Cf)
            "demo\u{2066}@example.com", // left-to-right isolate (Cf)
            "demo\u{FEFF}@example.com", // zero-width no-break space (Cf)
            "demo\u{7}@example.com",    // bell (Cc)
            "demo\u{2028}@example.com", // line separator (Zl)
            "demo\u{E000}@example.com", // private use (Co)
            "demo\u{0378}@example.com", // unassigned (Cn)
            "demo\u{200D}@example.com", // zero-width joiner: not in an identifier
        ] {
            assert_eq!(
                refused_field(identifier(bad, "email")),
                Some("email"),
                "{bad:?}"
            );
        }
        assert_eq!(refused_field(name("Eve\u{202E}lin", "name")), Some("name"));
        assert_eq!(refused_field(name("Acme\tCorp", "name")), Some("name"));
        let Err(e) = name("Eve\u{202E}", "name") else {
            panic!("accepted")
        };
        assert!(e.to_string().contains("U+202E"), "{e}");
    }

    #[test]
    fn names_keep_the_joiners_that_spelling_needs() {
        // Persian "mi-khaham" needs a zero-width non-joiner; a family emoji is joined by ZWJ.
        assert_eq!(name("می\u{200C}خواهم", "name").unwrap(), "می\u{200C}خواهم");
        assert!(name("👩\u{200D}👩\u{200D}👧", "name").is_ok());
    }

    #[test]
    fn look_alikes_share_a_skeleton_and_different_strings_do_not() {
        let demo = skeleton("demo@example.com");
        // Cyrillic е (U+0435) and Greek ο (U+03BF).
        assert_eq!(skeleton("d\u{435}mo@example.com"), demo);
        assert_eq!(skeleton("dem\u{3BF}@example.com"), demo);
        assert_eq!(
            skeleton("rnodern@example.com"),
            skeleton("modern@example.com")
        );
        assert_eq!(skeleton("user1@example.com"), skeleton("userl@example.com"));
        assert_ne!(skeleton("demo2@example.com"), demo);
        assert_ne!(skeleton("dome@example.com"), demo);
    }
}
