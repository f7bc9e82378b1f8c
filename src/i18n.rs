//! The language of user-facing text.
//!
//! Chinese is the default; `--lang en` switches every message, title and help line. Statute texts
//! stay Chinese whatever the language. The choice is made once, at start-up, by the CLI.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

static LANG: AtomicU8 = AtomicU8::new(0);

pub fn set_lang(lang: Lang) {
    LANG.store(matches!(lang, Lang::En).into(), Ordering::Relaxed);
}

#[must_use]
pub fn lang() -> Lang {
    if LANG.load(Ordering::Relaxed) == 1 { Lang::En } else { Lang::Zh }
}

/// Picks the Chinese or the English text.
#[must_use]
pub fn t<'a>(zh: &'a str, en: &'a str) -> &'a str {
    match lang() {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// `tr!("中文 {x}", "english {x}")`: formats the text of the current language.
#[macro_export]
macro_rules! tr {
    ($zh:literal, $en:literal $(, $($arg:tt)*)?) => {
        match $crate::i18n::lang() {
            $crate::i18n::Lang::Zh => format!($zh $(, $($arg)*)?),
            $crate::i18n::Lang::En => format!($en $(, $($arg)*)?),
        }
    };
}
