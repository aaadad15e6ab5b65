//! `--output table` as the AWS CLI prints it: any JSON answer laid out by the rules of aws-cli's
//! `TableFormatter` (awscli/formatter.py) and `MultiTable` (awscli/table.py), uncoloured, as it
//! prints when stdout is not a terminal.
//!
//! The rules, in short: the answer is a section titled with the operation's name; a map's
//! scalar members (sorted by name) make one row under a header of their names, a single scalar
//! member a `name | value` row, and each list or map member a sub-section one level in, titled
//! with its name; a list of maps makes one section per element once its elements have nested
//! members. Empty members make nothing. Columns are as wide as their widest cell plus four,
//! scaled to the widest section; when that is wider than the terminal (80 columns when stdout
//! is not one), every one-row section is turned on its side (`header | value` rows).

use std::io::{self, Write};

use serde_json::{Map, Value};
use unicode_width::UnicodeWidthChar;

/// Writes `answer` as the AWS CLI's table for the operation `title`, `terminal_width` wide at
/// most before one-row sections are turned on their side.
pub(crate) fn write_table(
    title: &str,
    answer: &Value,
    terminal_width: usize,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut table = Table::default();
    if !table.build(Some(title), answer, 0) {
        return Ok(());
    }
    table.render(terminal_width, out)
}

/// The terminal's width when stdout is one, else the 80 columns aws-cli assumes
/// (`determine_terminal_width` in awscli/table.py).
pub(crate) fn terminal_width() -> usize {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct it is given, which outlives the call.
    let answered = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if answered && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        80
    }
}

/// Width as aws-cli's `get_text_length` counts it: East Asian wide, fullwidth and ambiguous
/// characters take two columns, every other character one.
fn text_length(text: &str) -> usize {
    text.chars()
        .map(|c| if c.width_cjk() == Some(2) { 2 } else { 1 })
        .sum()
}

/// A scalar as Python's `str()` shows it.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        other => other.to_string(),
    }
}

/// Python's truthiness, which decides whether a member makes a section.
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

#[derive(Debug, Default, Clone)]
struct Section {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    indent_level: usize,
    max_widths: Vec<usize>,
}

impl Section {
    fn update_max_widths(&mut self, cells: &[String]) {
        if self.max_widths.is_empty() {
            self.max_widths = cells.iter().map(|cell| text_length(cell)).collect();
        } else {
            for (width, cell) in self.max_widths.iter_mut().zip(cells) {
                *width = (*width).max(text_length(cell));
            }
        }
    }

    fn add_header(&mut self, headers: Vec<String>) {
        self.update_max_widths(&headers);
        self.headers = headers;
    }

    fn add_row(&mut self, row: Vec<String>) {
        self.update_max_widths(&row);
        self.rows.push(row);
    }

    /// `calculate_column_widths`: each column's widest cell plus `padding`, scaled to add up to
    /// `max_width` (rounding half to even, as Python's `round`), the rounding error taken off
    /// the first columns or added to the last ones.
    fn column_widths(&self, padding: usize, max_width: Option<usize>) -> Vec<usize> {
        let unscaled: Vec<usize> = self.max_widths.iter().map(|w| w + padding).collect();
        let Some(max_width) = max_width else {
            return unscaled;
        };
        if unscaled.is_empty() {
            return unscaled;
        }
        let scale = max_width as f64 / unscaled.iter().sum::<usize>() as f64;
        let mut scaled: Vec<i64> = unscaled
            .iter()
            .map(|&w| (scale * w as f64).round_ties_even() as i64)
            .collect();
        let mut off_by = scaled.iter().sum::<i64>() - max_width as i64;
        while off_by != 0 {
            let order: Vec<usize> = if off_by < 0 {
                (0..scaled.len()).rev().collect()
            } else {
                (0..scaled.len()).collect()
            };
            for i in order {
                if off_by > 0 {
                    scaled[i] -= 1;
                    off_by -= 1;
                } else {
                    scaled[i] += 1;
                    off_by += 1;
                }
                if off_by == 0 {
                    break;
                }
            }
        }
        scaled.into_iter().map(|w| w.max(0) as usize).collect()
    }

    fn total_width(&self, padding: usize, outer_padding: usize) -> usize {
        let border = 2;
        let columns: usize = self
            .column_widths(0, None)
            .iter()
            .map(|w| w + padding)
            .sum();
        let total = columns + border + 2 * outer_padding;
        total.max(text_length(&self.title) + border + 2 * outer_padding)
    }
}

#[derive(Debug, Default)]
struct Table {
    sections: Vec<Section>,
}

impl Table {
    fn current(&mut self) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        self.sections.last_mut().expect("a section")
    }

    fn new_section(&mut self, title: &str, indent_level: usize) {
        self.sections.push(Section {
            title: title.to_owned(),
            indent_level,
            ..Section::default()
        });
    }

    /// `_build_table`.
    fn build(&mut self, title: Option<&str>, current: &Value, indent_level: usize) -> bool {
        if !is_truthy(current) {
            return false;
        }
        if let Some(title) = title {
            self.new_section(title, indent_level);
        }
        match current {
            Value::Array(items) => {
                if items.first().is_some_and(Value::is_object) {
                    self.sub_table_from_list(items, indent_level, title);
                } else {
                    for item in items {
                        match item {
                            Value::Array(inner) if inner.iter().all(is_scalar) => {
                                self.current()
                                    .add_row(inner.iter().map(python_str).collect());
                            }
                            scalar if is_scalar(scalar) => {
                                self.current().add_row(vec![python_str(scalar)]);
                            }
                            nested => {
                                self.build(None, nested, 0);
                            }
                        }
                    }
                }
            }
            Value::Object(map) => self.sub_table_from_map(map, indent_level),
            _ => {}
        }
        true
    }

    fn sub_table_from_map(&mut self, map: &Map<String, Value>, indent_level: usize) {
        let (headers, more) = group_scalar_keys(map);
        if let [only] = headers.as_slice() {
            let row = vec![only.clone(), python_str(&map[only.as_str()])];
            self.current().add_row(row);
        } else if !headers.is_empty() {
            let row = headers
                .iter()
                .map(|h| python_str(&map[h.as_str()]))
                .collect();
            self.current().add_header(headers);
            self.current().add_row(row);
        }
        for name in more {
            self.build(Some(&name), &map[name.as_str()], indent_level + 1);
        }
    }

    fn sub_table_from_list(&mut self, items: &[Value], indent_level: usize, title: Option<&str>) {
        let mut headers = std::collections::BTreeSet::new();
        let mut more = std::collections::BTreeSet::new();
        for item in items {
            if let Value::Object(map) = item {
                let (scalars, nested) = group_scalar_keys(map);
                headers.extend(scalars);
                more.extend(nested);
            }
        }
        let headers: Vec<String> = headers.into_iter().collect();
        self.current().add_header(headers.clone());
        for (index, item) in items.iter().enumerate() {
            if index > 0 && !more.is_empty() {
                self.new_section(title.unwrap_or_default(), indent_level);
                self.current().add_header(headers.clone());
            }
            let row = headers
                .iter()
                .map(|h| item.get(h).map(python_str).unwrap_or_default())
                .collect();
            self.current().add_row(row);
            for name in &more {
                if let Some(value) = item.get(name) {
                    self.build(Some(name), value, indent_level + 1);
                }
            }
        }
    }

    fn max_width(&self) -> usize {
        self.sections
            .iter()
            .map(|s| s.total_width(4, s.indent_level))
            .max()
            .unwrap_or(0)
    }

    fn render(&mut self, terminal_width: usize, out: &mut impl Write) -> io::Result<()> {
        let mut max_width = self.max_width();
        if max_width > terminal_width {
            for section in &mut self.sections {
                if section.rows.len() == 1 && !section.headers.is_empty() {
                    let mut vertical = Section {
                        title: section.title.clone(),
                        indent_level: section.indent_level,
                        ..Section::default()
                    };
                    for (header, cell) in section.headers.iter().zip(&section.rows[0]) {
                        vertical.add_row(vec![header.clone(), cell.clone()]);
                    }
                    *section = vertical;
                }
            }
            max_width = self.max_width();
        }
        writeln!(out, "{}", "-".repeat(max_width))?;
        for section in &self.sections {
            render_section(section, max_width, out)?;
        }
        Ok(())
    }
}

fn group_scalar_keys(map: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let (mut headers, mut more): (Vec<String>, Vec<String>) = map
        .keys()
        .cloned()
        .partition(|key| is_scalar(&map[key.as_str()]));
    headers.sort();
    more.sort();
    (headers, more)
}

/// One line of a section, between its indentation bars on both sides (`IndentedStream`).
fn line(out: &mut impl Write, indent: usize, text: &str) -> io::Result<()> {
    let bars = "|".repeat(indent);
    writeln!(out, "{bars}{text}{bars}")
}

fn render_section(section: &Section, max_width: usize, out: &mut impl Write) -> io::Result<()> {
    let indent = section.indent_level;
    let width = max_width - indent * 2;
    if !section.title.is_empty() {
        line(out, indent, &center_text(&section.title, width, "|", "|"))?;
        if section.headers.is_empty() && section.rows.is_empty() {
            line(out, indent, &format!("+{}+", "-".repeat(width - 2)))?;
        }
    }
    if !section.headers.is_empty() {
        let widths = section.column_widths(4, Some(width));
        let mut titles = String::new();
        for (index, (column, header)) in widths.iter().zip(&section.headers).enumerate() {
            let left = if index == 0 { "|" } else { "" };
            titles.push_str(&center_text(header, *column, left, "|"));
        }
        line(out, indent, &line_break(&widths))?;
        line(out, indent, &titles)?;
    }
    if !section.rows.is_empty() {
        let widths = section.column_widths(4, Some(width));
        if widths.is_empty() {
            return Ok(());
        }
        line(out, indent, &line_break(&widths))?;
        for row in &section.rows {
            let mut text = String::new();
            for (index, (column, cell)) in widths.iter().zip(row).enumerate() {
                let left = if index == 0 { "|" } else { "" };
                text.push_str(&align_left(cell, *column, left, "|"));
            }
            line(out, indent, &text)?;
        }
        line(out, indent, &line_break(&widths))?;
    }
    Ok(())
}

/// `+-----+------+`.
fn line_break(widths: &[usize]) -> String {
    let mut text = String::new();
    for (index, width) in widths.iter().enumerate() {
        if index == 0 {
            text.push_str(&format!("+{}+", "-".repeat(width.saturating_sub(2))));
        } else {
            text.push_str(&format!("{}+", "-".repeat(width.saturating_sub(1))));
        }
    }
    text
}

/// `center_text`, with Python's arithmetic: a negative count of spaces is none.
fn center_text(text: &str, length: usize, left: &str, right: &str) -> String {
    let text_len = text_length(text) as i64;
    let length = length as i64;
    let start = length / 2 - text_len / 2 - 1;
    let so_far = text_length(left) as i64 + start + text_len;
    let right_spaces = length - text_length(right) as i64 - so_far;
    format!(
        "{left}{}{text}{}{right}",
        " ".repeat(start.max(0) as usize),
        " ".repeat(right_spaces.max(0) as usize)
    )
}

/// `align_left`: two spaces of padding when the cell has room for them.
fn align_left(text: &str, length: usize, left: &str, right: &str) -> String {
    let text_len = text_length(text) as i64;
    let length = length as i64;
    let computed = text_len + 2 + left.len() as i64 + right.len() as i64;
    let padding = if length - computed >= 0 { 2 } else { 0 };
    let so_far = left.len() as i64 + padding + text_len;
    let fill = length - so_far - right.len() as i64;
    format!(
        "{left}{}{text}{}{right}",
        " ".repeat(padding as usize),
        " ".repeat(fill.max(0) as usize)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(answer: &str) -> String {
        let answer: Value = serde_json::from_str(answer).expect("json");
        let mut out = Vec::new();
        write_table("LookupEvents", &answer, 80, &mut out).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    // Each expectation is what aws-cli 1.46.3's TableFormatter (color off) printed for the same
    // answer.

    #[test]
    fn an_empty_answer_is_its_title() {
        assert_eq!(
            table(r#"{"Events":[]}"#),
            "--------------\n|LookupEvents|\n+------------+\n"
        );
    }

    #[test]
    fn narrow_tables_keep_their_columns_scaled_to_the_widest_section() {
        let expected = "\
------------------------------------------
|              LookupEvents              |
+----------------------------------------+
||                Events                ||
|+----------+-------------+-------------+|
||  EventId |  EventName  |  EventTime  ||
|+----------+-------------+-------------+|
||  a1      |  X          |  1.5        ||
|+----------+-------------+-------------+|
||                Events                ||
|+---------+--------------+-------------+|
|| EventId |  EventName   |  EventTime  ||
|+---------+--------------+-------------+|
||  b      |  LongerName  |             ||
|+---------+--------------+-------------+|
";
        assert_eq!(
            table(
                r#"{"Events":[{"EventId":"a1","EventName":"X","EventTime":1.5,"Resources":[]},
                {"EventId":"b","EventName":"LongerName","Resources":[]}]}"#
            ),
            expected
        );
    }

    #[test]
    fn wide_tables_turn_one_row_sections_on_their_side() {
        let expected = "\
--------------------------------------------
|               LookupEvents               |
+---------------------------+--------------+
|  NextToken                |  tok         |
+---------------------------+--------------+
||                 Events                 ||
|+------------------+---------------------+|
||  CloudTrailEvent |  {}                 ||
||  EventId         |  e-1                ||
||  EventName       |  CreateRole         ||
||  EventSource     |  iam.amazonaws.com  ||
||  EventTime       |  1668097474.0       ||
||  ReadOnly        |  false              ||
||  Username        |  anaya              ||
|+------------------+---------------------+|
|||               Resources              |||
||+-----------------+--------------------+||
|||  ResourceName   |  Admin             |||
|||  ResourceType   |  AWS::IAM::Role    |||
||+-----------------+--------------------+||
||                 Events                 ||
|+---------------------+------------------+|
||  CloudTrailEvent    |  {\"a\":1}         ||
||  EventId            |  e-2             ||
||  EventName          |  ConsoleLogin    ||
||  EventSource        |                  ||
||  EventTime          |  1668097474.0    ||
||  ReadOnly           |  false           ||
||  Username           |  ｗｉｄｅ        ||
|+---------------------+------------------+|
";
        let answer = r#"{"Events":[{"EventId":"e-1","EventName":"CreateRole","ReadOnly":"false",
            "EventTime":1668097474.0,"EventSource":"iam.amazonaws.com","Username":"anaya",
            "Resources":[{"ResourceType":"AWS::IAM::Role","ResourceName":"Admin"}],
            "CloudTrailEvent":"{}"},
            {"EventId":"e-2","EventName":"ConsoleLogin","ReadOnly":"false",
            "EventTime":1668097474.0,"Username":"ｗｉｄｅ","Resources":[],
            "CloudTrailEvent":"{\"a\":1}"}],"NextToken":"tok"}"#;
        assert_eq!(table(answer), expected);
    }
}
