//! The backup folder: layout, Info/Manifest/Status plists, fileID hashing (read-only).
