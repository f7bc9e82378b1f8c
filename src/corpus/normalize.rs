//! Text normalisation (SPEC §2.7).
//!
//! Names are compared after: Traditional → Simplified, full-width → half-width ASCII, removal of
//! white space, book-title marks and quotes, and of the suffixes 原件 / 复印件 / 扫描件 /
//! （加盖公章）. Citations drop brackets too. Normalising twice changes nothing.

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

use super::memo::{Memo, memoized};

/// Texts longer than this are converted each time: the memo is for names and values.
const MEMO_MAX_BYTES: usize = 96;
/// Texts a thread's memo holds before it starts again (≈ 2 MB at most).
const MEMO_LIMIT: usize = 1 << 14;

thread_local! {
    /// The Traditional → Simplified table costs some 200 instructions a character.
    static SIMPLIFIED: RefCell<Memo<Box<str>>> = RefCell::new(Memo::default());
    /// Material names and their normal form, shared (see [`material_name`]).
    static MATERIAL_NAMES: RefCell<Memo<(Arc<str>, Arc<str>)>> = RefCell::new(Memo::default());
    /// Other texts written alike over and over, shared (see [`shared_text`]).
    static SHARED_TEXTS: RefCell<Memo<Arc<str>>> = RefCell::new(Memo::default());
}

/// A text written alike over and over (a material's note: 视情况提供, 原件核验 …), shared by
/// the values of the thread's recent files as [`material_name`] shares names.
#[must_use]
pub fn shared_text(text: &str) -> Arc<str> {
    memoized_short(&SHARED_TEXTS, text, |t| Arc::from(t))
}

/// A material's name and its normal form ([`name`]), shared by every material of the thread's
/// recent files that is written alike: a corpus asks for the same few hundred materials
/// (营业执照, 居民身份证 …) over and over. The name is then one allocation per distinct text,
/// not one per material, its normal form is worked out once, and a memo of a function of the
/// name may key on where the text is ([`Arc::as_ptr`]) instead of reading it again (the
/// catch-all phrase of a name: [`PhraseMatcher::of_shared`](super::reference::PhraseMatcher::of_shared)).
#[must_use]
pub fn material_name(text: &str) -> (Arc<str>, Arc<str>) {
    memoized_short(&MATERIAL_NAMES, text, |t| (Arc::from(t), Arc::from(name(t))))
}

/// Traditional → Simplified and full-width → half-width; keeps everything else.
#[must_use]
pub fn simplify(s: &str) -> String {
    memoized_short(&SIMPLIFIED, s, |s| convert(s).into()).into()
}

/// `compute(text)`, remembered in `memo` (of this module's texts) unless the text is longer than
/// the memos are for.
fn memoized_short<V: Clone>(memo: &'static LocalKey<RefCell<Memo<V>>>, text: &str, compute: impl Fn(&str) -> V) -> V {
    if text.len() > MEMO_MAX_BYTES {
        return compute(text);
    }
    memoized(memo, 0, MEMO_LIMIT, text, compute)
}

fn convert(s: &str) -> String {
    // Full-width forms are rare: copy the text for them only when there are some.
    if s.chars().any(|c| to_half_width(c) != c) {
        let half: String = s.chars().map(to_half_width).collect();
        fast2s::convert(&half)
    } else {
        fast2s::convert(s)
    }
}

fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => (c as u32).checked_sub(0xFEE0).and_then(char::from_u32).unwrap_or(c),
        _ => c,
    }
}

fn is_dropped_in_name(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '《' | '》' | '"' | '\'' | '“' | '”' | '‘' | '’' | '「' | '」' | '『' | '』' | '〈' | '〉')
}

const NAME_SUFFIXES: &[&str] = &[
    "(加盖公章)",
    "(加盖单位公章)",
    "原件及复印件",
    "原件和复印件",
    "原件或复印件",
    "复印件",
    "原件",
    "扫描件",
    "电子件",
];

/// Words a trailing parenthesis may hold and still only say which form to bring:
/// （原件）（复印件）（原件及复印件）（加盖公章）（复印件一份）…
const FORM_WORDS: &[&str] = &[
    "原件",
    "复印件",
    "扫描件",
    "电子件",
    "影印件",
    "加盖单位公章",
    "加盖公章",
    "盖章",
    "及",
    "和",
    "或",
    "、",
    ",",
    "一份",
    "两份",
    "二份",
    "三份",
    "1份",
    "2份",
    "3份",
    "各",
];

/// True when `inner` is made only of [`FORM_WORDS`].
fn only_form_words(mut inner: &str) -> bool {
    if inner.is_empty() {
        return false;
    }
    while !inner.is_empty() {
        match FORM_WORDS.iter().find(|w| inner.starts_with(**w)) {
            Some(w) => inner = inner.get(w.len()..).unwrap_or(""),
            None => return false,
        }
    }
    true
}

/// The comparison form of a material or certificate name.
#[must_use]
pub fn name(s: &str) -> String {
    let simplified = simplify(s);
    let mut out: String = if simplified.chars().any(is_dropped_in_name) {
        simplified.chars().filter(|&c| !is_dropped_in_name(c)).collect()
    } else {
        simplified
    };
    loop {
        let before = out.len();
        for suffix in NAME_SUFFIXES {
            if out.len() > suffix.len()
                && let Some(stripped) = out.strip_suffix(suffix)
            {
                out.truncate(stripped.len());
            }
        }
        // A trailing parenthesis that only names the form: （原件及复印件）, （复印件一份）.
        if out.ends_with(')')
            && let Some(open) = out.rfind('(')
            && open > 0
            && only_form_words(out.get(open.saturating_add(1)..out.len().saturating_sub(1)).unwrap_or(""))
        {
            out.truncate(open);
        }
        if out.len() == before {
            break;
        }
    }
    out
}

/// The comparison form of a citation or statute title: also drops 〔〕[]()［］.
#[must_use]
pub fn citation(s: &str) -> String {
    simplify(s)
        .chars()
        .filter(|&c| !is_dropped_in_name(c) && !matches!(c, '〔' | '〕' | '[' | ']' | '(' | ')' | '【' | '】' | '·'))
        .collect()
}

/// The comparison form of an enumerated value or a key: Simplified, half-width, trimmed.
#[must_use]
pub fn token(s: &str) -> String {
    simplify(s.trim()).chars().filter(|c| !c.is_whitespace()).collect()
}

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// Parses a number written in Chinese numerals (一百二十三, 二十, 十一) or Arabic digits.
#[must_use]
pub fn parse_number(s: &str) -> Option<u32> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    let mut total = 0u32;
    let mut current = 0u32;
    let mut seen = false;
    for c in s.chars() {
        seen = true;
        if let Some(d) = DIGITS.iter().position(|&x| x == c).or(if c == '〇' { Some(0) } else { None }) {
            current = u32::try_from(d).ok()?;
        } else {
            let unit = match c {
                '十' => 10,
                '百' => 100,
                '千' => 1000,
                _ => return None,
            };
            let n = if current == 0 { 1 } else { current };
            total = total.checked_add(n.checked_mul(unit)?)?;
            current = 0;
        }
    }
    if !seen {
        return None;
    }
    total.checked_add(current)
}

/// Writes a number in Chinese numerals as statutes number their articles (第二十二条, 第一百零一条).
#[must_use]
pub fn chinese_number(n: u32) -> String {
    if n == 0 {
        return "零".into();
    }
    let digit = |d: u32| DIGITS.get(d as usize).copied().unwrap_or('零');
    let parts = [(n / 1000) % 10, (n / 100) % 10, (n / 10) % 10, n % 10];
    let units = ["千", "百", "十", ""];
    let mut out = String::new();
    let mut zero_pending = false;
    for (i, (&d, unit)) in parts.iter().zip(units).enumerate() {
        if d == 0 {
            if !out.is_empty() {
                zero_pending = true;
            }
            continue;
        }
        if zero_pending {
            out.push('零');
            zero_pending = false;
        }
        // 十一 rather than 一十一 when the number starts at the tens.
        if !(i == 2 && d == 1 && out.is_empty()) {
            out.push(digit(d));
        }
        out.push_str(unit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Materials written alike share one name and its normal form; a long name (beyond the
    /// memo) is its own, with the same normal form.
    #[test]
    fn material_names_are_shared_with_their_normal_form() {
        for text in ["营业执照（复印件）", "營業執照", "其他相关材料", ""] {
            let (a, norm) = material_name(text);
            let (b, _) = material_name(text);
            assert_eq!((&*a, &*norm), (text, name(text).as_str()));
            assert!(Arc::ptr_eq(&a, &b), "{text} not shared");
        }
        let long = "申请人的".repeat(20);
        let (a, norm) = material_name(&long);
        assert_eq!((&*a, &*norm), (long.as_str(), name(&long).as_str()));
        // Notes and other texts are shared as written.
        for text in ["视情况提供", "原件核验", ""] {
            let (a, b) = (shared_text(text), shared_text(text));
            assert_eq!(&*a, text);
            assert!(Arc::ptr_eq(&a, &b), "{text} not shared");
        }
        assert_eq!(&*shared_text(&long), long);
    }

    #[test]
    fn names() {
        assert_eq!(name("其他相關材料"), "其他相关材料");
        assert_eq!(name(" 营业执照复印件（加盖公章）"), "营业执照");
        assert_eq!(name("《道路运输证》原件及复印件"), "道路运输证");
        assert_eq!(name("ＡＢＣ证明"), "ABC证明");
        assert_eq!(name("无犯罪记录证明（原件）"), "无犯罪记录证明");
        assert_eq!(name("营业执照（原件及复印件）"), "营业执照");
        assert_eq!(name("股东会决议(复印件一份)"), "股东会决议");
        assert_eq!(name("房屋租赁合同（原件）复印件"), "房屋租赁合同");
        // A parenthesis that says something else stays.
        assert_eq!(name("身份证明（外籍人员）"), "身份证明(外籍人员)");
        assert_eq!(name("无犯罪记录证明（原件）"), "无犯罪记录证明");
        assert_eq!(name("营业执照（原件及复印件）"), "营业执照");
        assert_eq!(name("股东会决议(复印件一份)"), "股东会决议");
        assert_eq!(name("房屋租赁合同（原件）复印件"), "房屋租赁合同");
        // A parenthesis that says something else stays.
        assert_eq!(name("身份证明（外籍人员）"), "身份证明(外籍人员)");
        for s in ["其他相關材料", "营业执照复印件（加盖公章）", "复印件"] {
            assert_eq!(name(&name(s)), name(s));
        }
    }

    #[test]
    fn citations() {
        assert_eq!(citation("《中华人民共和国行政许可法》第三十一条"), "中华人民共和国行政许可法第三十一条");
        assert_eq!(citation("国办发〔2015〕86号"), "国办发201586号");
    }

    #[test]
    fn numbers() {
        for (s, n) in [("三十一", 31), ("十", 10), ("十一", 11), ("一百零一", 101), ("二百", 200), ("31", 31)]
        {
            assert_eq!(parse_number(s), Some(n), "{s}");
            assert_eq!(parse_number(&chinese_number(n)), Some(n));
        }
        assert_eq!(chinese_number(101), "一百零一");
        assert_eq!(chinese_number(22), "二十二");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(110), "一百一十");
    }
}
