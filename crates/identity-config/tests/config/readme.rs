//! The README's Configuration table against the code's table of settings:
//! every setting has one row, with the same environment variables (the
//! preferred one first) and `secrets.json` key, and no row names a setting the
//! code does not know.

use identity_config::Setting;

const README: &str = include_str!("../../../../README.md");

/// A setting as the README's table or the code names it.
#[derive(Debug, PartialEq, Eq)]
struct Names {
    env: Vec<String>,
    /// `None` where the table says `none`.
    key: Option<String>,
}

impl Names {
    fn of(setting: Setting) -> Self {
        Names {
            env: setting
                .env_vars()
                .iter()
                .map(|&var| var.to_owned())
                .collect(),
            key: setting.secrets_key().map(str::to_owned),
        }
    }
}

/// The text between backticks: `FBN_X` (older: `FBN_Y`) is [FBN_X, FBN_Y].
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The rows of the table in the README's `## Configuration` section, with
/// each row's line.
fn readme_rows() -> Vec<(&'static str, Names)> {
    let section = README
        .split("\n## Configuration\n")
        .nth(1)
        .expect("the README has a Configuration section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let table: Vec<&str> = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .collect();
    assert!(
        table.len() > 2,
        "no table in the README's Configuration section"
    );
    assert_eq!(
        table[0],
        "| setting | environment variable | `secrets.json` key |"
    );
    table[2..]
        .iter()
        .map(|&line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            assert_eq!(cells.len(), 3, "a row of three cells: {line}");
            let key = match cells[2] {
                "none" => None,
                cell => match code_spans(cell).as_slice() {
                    [key] => Some(key.clone()),
                    _ => panic!("one `key`, or none: {line}"),
                },
            };
            let names = Names {
                env: code_spans(cells[1]),
                key,
            };
            (line, names)
        })
        .collect()
}

#[test]
fn every_setting_has_one_row_naming_its_variables_and_key() {
    let rows = readme_rows();
    for setting in Setting::ALL {
        let names = Names::of(setting);
        let matching: Vec<&str> = rows
            .iter()
            .filter(|(_, row)| *row == names)
            .map(|(line, _)| *line)
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "{setting:?} ({names:?}) should have one row in the README's Configuration \
             table; rows naming it: {matching:?}"
        );
    }
}

#[test]
fn every_row_is_a_setting_of_the_code() {
    let known: Vec<Names> = Setting::ALL.into_iter().map(Names::of).collect();
    for (line, row) in readme_rows() {
        assert!(
            known.contains(&row),
            "the README's Configuration table has a row the code does not: {line} \
             (read as {row:?})"
        );
    }
    assert_eq!(readme_rows().len(), Setting::ALL.len());
}
