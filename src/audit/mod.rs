//! The findings model and the rules that classify a backup, its files and keychain items.
