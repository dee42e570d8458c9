//! `cargo xtask compat` (being written).

pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    Err("not written yet".to_owned())
}
