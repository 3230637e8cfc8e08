//! Where Finder and iTunes keep backups by default, per platform, for commands given no
//! backup path.

use std::path::{Path, PathBuf};

/// The platform whose default folders to look in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Finder (and iTunes before macOS 10.15): `~/Library/Application Support/MobileSync/Backup`.
    MacOs,
    /// iTunes from apple.com: `%APPDATA%\Apple Computer\MobileSync\Backup`; iTunes from the
    /// Microsoft Store: `%USERPROFILE%\Apple\MobileSync\Backup`.
    Windows,
    /// No Apple software makes backups here (Linux, …): only the macOS layout under the
    /// home folder, when it exists (a Mac's home folder copied or mounted for examination).
    Other,
}

impl Platform {
    /// The platform this program runs on.
    pub fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Other
        }
    }

    /// Its name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Platform::MacOs => "macOS",
            Platform::Windows => "Windows",
            Platform::Other => std::env::consts::OS,
        }
    }
}

/// The environment the default folders are found from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `HOME`.
    pub home: Option<PathBuf>,
    /// `APPDATA` (Windows).
    pub appdata: Option<PathBuf>,
    /// `USERPROFILE` (Windows).
    pub userprofile: Option<PathBuf>,
}

impl Env {
    /// This process's environment (empty values count as unset).
    pub fn current() -> Env {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Env {
            home: var("HOME"),
            appdata: var("APPDATA"),
            userprofile: var("USERPROFILE"),
        }
    }
}

/// The macOS folder under a home folder.
fn mac_under(home: &Path) -> PathBuf {
    home.join("Library")
        .join("Application Support")
        .join("MobileSync")
        .join("Backup")
}

/// The folders where `platform` keeps backups by default, most usual first (whether they
/// exist or not).
pub fn candidates(platform: Platform, env: &Env) -> Vec<PathBuf> {
    let mut v = Vec::new();
    match platform {
        Platform::MacOs | Platform::Other => v.extend(env.home.as_deref().map(mac_under)),
        Platform::Windows => {
            v.extend(
                env.appdata
                    .as_ref()
                    .map(|a| a.join("Apple Computer").join("MobileSync").join("Backup")),
            );
            v.extend(
                env.userprofile
                    .as_ref()
                    .map(|u| u.join("Apple").join("MobileSync").join("Backup")),
            );
        }
    }
    v
}

/// The default folders of `platform` that exist (as folders), most usual first.
pub fn existing(platform: Platform, env: &Env) -> Vec<PathBuf> {
    candidates(platform, env)
        .into_iter()
        .filter(|p| p.is_dir())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_has_its_folders() {
        let env = Env {
            home: Some("/home/u".into()),
            appdata: Some(r"C:\Users\u\AppData\Roaming".into()),
            userprofile: Some(r"C:\Users\u".into()),
        };
        let mac = Path::new("/home/u/Library/Application Support/MobileSync/Backup");
        assert_eq!(candidates(Platform::MacOs, &env), vec![mac.to_path_buf()]);
        assert_eq!(candidates(Platform::Other, &env), vec![mac.to_path_buf()]);
        let win = candidates(Platform::Windows, &env);
        assert_eq!(win.len(), 2);
        assert!(win[0].starts_with(r"C:\Users\u\AppData\Roaming"));
        assert!(win[0].ends_with("Apple Computer/MobileSync/Backup"));
        assert!(win[1].ends_with("Apple/MobileSync/Backup"));
        // Nothing set, nothing to look in.
        assert!(candidates(Platform::MacOs, &Env::default()).is_empty());
        assert!(candidates(Platform::Windows, &Env::default()).is_empty());
    }

    #[test]
    fn only_existing_folders_are_kept() {
        let home = tempfile::tempdir().unwrap();
        let env = Env {
            home: Some(home.path().into()),
            ..Default::default()
        };
        assert!(existing(Platform::MacOs, &env).is_empty());
        let folder = mac_under(home.path());
        std::fs::create_dir_all(&folder).unwrap();
        assert_eq!(existing(Platform::Other, &env), vec![folder]);
    }
}
