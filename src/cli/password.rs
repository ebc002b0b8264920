//! Reading a password without it ever being on the command line: one line
//! from standard input when that is not a terminal (scripts pipe it in), a
//! prompt without echo otherwise.

use super::CliError;
use std::io::{BufRead, IsTerminal};

/// The password to set, read as described above.
pub fn read_new_password(username: &str) -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {username}: "))
            .map_err(|e| CliError::invalid(format!("cannot read the password: {e}")))?;
        let again = rpassword::prompt_password("The same password again: ")
            .map_err(|e| CliError::invalid(format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(CliError::invalid("the two passwords are different"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::invalid(format!("cannot read the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(CliError::invalid(
            "no password on standard input (pipe one line in, or use --generate-password)",
        ));
    }
    Ok(password)
}
