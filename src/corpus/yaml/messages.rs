//! The YAML parser's error messages in Chinese. saphyr-parser words its errors in English; in
//! Chinese output each known message is said in Chinese, followed by the parser's own words,
//! which are what a search for the error finds. A message without a translation is shown as
//! the parser wrote it.

use crate::i18n::{Lang, lang};

/// saphyr-parser's messages (0.3, `scanner.rs` and `parser.rs`) that a hand-written list can
/// run into, and what they mean to its author.
const MESSAGES: &[(&str, &str)] = &[
    ("illegal placement of ':' indicator", "冒号 `:` 不能出现在这里：上文的 `[` 或 `{` 可能没有闭合"),
    ("mapping values are not allowed in this context", "这里不能出现 `键: 值`：值中有冒号时请给值加引号"),
    ("mapping keys are not allowed in this context", "这里不能出现键"),
    ("block sequence entries are not allowed in this context", "这里不能出现列表项 `- `"),
    (
        "while parsing a block collection, did not find expected '-' indicator",
        "列表中缺少 `- `：这一行的缩进与上面的列表项不一致",
    ),
    ("while parsing a block mapping, did not find expected key", "缺少键：这一行的缩进与同一层的其他键不一致"),
    ("while parsing a flow mapping, did not find expected ',' or '}'", "`{…}` 中缺少 `,` 或 `}`"),
    ("while parsing a flow sequence, expected ',' or ']'", "`[…]` 中缺少 `,` 或 `]`"),
    ("while parsing a node, did not find expected node content", "这里缺少值"),
    ("while scanning a quoted scalar, found unexpected end of stream", "引号没有闭合：文件在引号内结束"),
    ("while scanning a quoted scalar, found unexpected document indicator", "引号内出现了文档标记 `---` 或 `...`"),
    ("while parsing a quoted scalar, found unknown escape character", "双引号内有无法识别的转义（反斜杠 `\\`）"),
    ("invalid trailing content after double-quoted scalar", "双引号之后还有多余的内容"),
    ("unexpected eof", "文件意外结束"),
    ("unexpected end of plain scalar", "值意外结束"),
    ("tab cannot be used as indentation", "不能用制表符（Tab）缩进，请改用空格"),
    ("tabs disallowed in this context", "这里不能出现制表符（Tab），请改用空格"),
    ("tabs disallowed within this context (block indentation)", "不能用制表符（Tab）缩进，请改用空格"),
    ("a block scalar content cannot start with a tab", "多行文本（`|` 或 `>`）不能以制表符（Tab）开头"),
    ("while scanning a plain scalar, found a tab", "值中出现了制表符（Tab）"),
    ("invalid indentation", "缩进不正确"),
    ("invalid indentation in flow construct", "`[…]` 或 `{…}` 跨行时，后面的行缩进不足"),
    ("invalid indentation in quoted scalar", "引号内的值跨行时，后面的行缩进不足"),
    ("wrongly indented line in block scalar", "多行文本（`|` 或 `>`）中有一行缩进不正确"),
    ("comment intercepting the multiline text", "多行的值中间插入了注释"),
    ("misplaced bracket", "括号的位置不对"),
    ("found unprintable character", "含有不可打印的字符"),
    ("a byte order mark must not appear inside a document", "文件中间出现了字节顺序标记（BOM）"),
    ("while parsing node, found unknown anchor", "引用了没有定义的锚点：`*名称` 之前没有 `&名称`"),
    ("while parsing anchor, found duplicated anchor", "锚点名称重复"),
    (
        "while scanning an anchor or alias, did not find expected alphabetic or numeric character",
        "`&` 或 `*` 之后缺少锚点名称",
    ),
    ("recursion limit exceeded", "嵌套层数超过上限"),
    ("did not find expected <document start>", "缺少文档开始标记 `---`"),
    ("did not find expected <document-start>", "缺少文档开始标记 `---`"),
    ("invalid content after document end marker", "文档结束标记 `...` 之后还有内容"),
    ("did not find expected next token", "无法识别接下来的内容"),
    ("simple key expected", "这里应当是一个键"),
    ("simple key expect ':'", "键之后缺少冒号 `:`"),
    ("plain scalar cannot start with '-' followed by ,[]{}", "以 `-` 开头、后跟 `,[]{}` 的值须加引号"),
    ("expected whitespace", "这里应当有空格"),
];

/// `info`, a message of the YAML parser, in the user's language.
#[must_use]
pub fn syntax_message(info: &str) -> String {
    if lang() == Lang::En {
        return info.to_string();
    }
    let zh = MESSAGES.iter().find(|(en, _)| *en == info).map(|(_, zh)| *zh);
    // The one message with a part of its own: "unexpected character: `c'".
    let zh = zh.or_else(|| info.starts_with("unexpected character").then_some("意外的字符"));
    match zh {
        Some(zh) => format!("{zh}（{info}）"),
        None => info.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests may fail loudly")]

    use super::*;

    #[test]
    fn each_message_is_translated_once() {
        let mut seen = std::collections::HashSet::new();
        for (en, zh) in MESSAGES {
            assert!(seen.insert(*en), "{en} twice");
            assert!(zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{zh}");
        }
    }
}
