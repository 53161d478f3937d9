//! The local profile's JWT secret when `JWT_SECRET` is unset: made once and kept beside the
//! SQLite file, owner-only, so a restarted local server keeps its users' sessions. The
//! production profile never gets here: it refuses to start without `JWT_SECRET`.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use rand::RngExt;

/// Where the secret of a SQLite database lives (`zebrat.db` → `zebrat.db.jwt-secret`); None for
/// an in-memory SQLite database or another database, which have no file to sit beside.
pub fn path_beside(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = file.is_empty()
        || file.starts_with(":memory:")
        || query.split('&').any(|p| p == "mode=memory");
    (!in_memory).then(|| PathBuf::from(format!("{file}.jwt-secret")))
}

/// A fresh random secret (32 bytes, hex).
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// Reads the secret at `path`, or makes one there when there is none. Two processes starting
/// at once agree on one: the file appears whole (written aside, then linked into place), and
/// the one that loses the race reads the winner's.
pub fn load_or_create(path: &Path) -> io::Result<String> {
    if let Some(secret) = read(path)? {
        return Ok(secret);
    }
    let secret = generate();
    let aside = path.with_extension(format!(
        "jwt-secret.{}",
        generate().get(..8).unwrap_or("tmp")
    ));
    write_owner_only(&aside, &secret)?;
    let linked = std::fs::hard_link(&aside, path);
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => Ok(secret),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read(path)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the secret file is empty")),
        Err(e) => Err(e),
    }
}

fn read(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= 32 => Ok(Some(text.trim().to_string())),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} holds no usable secret (under 32 bytes): delete it to make a new one",
                path.display()
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_owner_only(path: &Path, secret: &str) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_sits_beside_a_sqlite_file_only() {
        assert_eq!(
            path_beside("sqlite://zebrat.db?mode=rwc"),
            Some(PathBuf::from("zebrat.db.jwt-secret"))
        );
        assert_eq!(
            path_beside("sqlite:/var/lib/z.db"),
            Some(PathBuf::from("/var/lib/z.db.jwt-secret"))
        );
        assert_eq!(path_beside("sqlite::memory:"), None);
        assert_eq!(path_beside("sqlite://x.db?mode=memory"), None);
        assert_eq!(path_beside("postgres://u@h/db"), None);
    }

    #[test]
    fn made_once_then_read_back() {
        let dir = std::env::temp_dir().join(format!("zebrat-secret-{}", generate()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("z.db.jwt-secret");
        let first = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
