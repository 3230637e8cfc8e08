//! SQLite databases, opened from memory: every cell by table, column and rowid, plus free space.
//!
//! The database is handed to SQLite as a read-only in-memory image (`sqlite3_deserialize`):
//! nothing is written to disk and SQLite opens no other file. Hostile databases are bounded
//! by SQLite itself (it checks page structure as it reads) and by [`MAX_CELLS`]. WebKit
//! LocalStorage (`ItemTable(key, value)`, values UTF-16LE) names each value by its key.
//! Free space is read by [`super::freespace`], a `-wal` beside the file by [`super::wal`].

use super::{Field, ValueType, Where};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// Cells read from one database at most (a bound on hostile or huge stores).
pub const MAX_CELLS: usize = 5_000_000;

/// Hand every text and blob cell of every table to `out`, then the printable strings of
/// the free space ([`super::freespace`]) as `deleted` fields. `Ok(Some(note))` when some
/// tables could not be read (the others were) or free space held strings.
pub fn fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) -> Result<Option<String>, String> {
    let image = readable(b);
    let mut notes = live_fields(&image, out)?;
    let found = super::freespace::deleted_strings(&image, MAX_CELLS, out);
    if found > 0 {
        notes.push(format!(
            "{found} strings in free space (freelist pages, freeblocks, unallocated page space) marked deleted"
        ));
    }
    Ok((!notes.is_empty()).then(|| notes.join("; ")))
}

/// Like [`fields`], with the `-wal` file found beside the database: committed frames are
/// applied to a copy of the image first (SQLite's own rules: page size from the WAL header,
/// matching salts, the cumulative checksum, up to the last commit frame), and the pages
/// of frames that are not committed are searched as `deleted` strings at their offset in
/// the WAL file.
pub fn fields_with_wal(
    db: &[u8],
    wal: &[u8],
    out: &mut dyn FnMut(Field<'_>),
) -> Result<Option<String>, String> {
    let applied = super::wal::apply(db, wal);
    let mut notes = vec![applied.summary()];
    let image = if applied.committed > 0 {
        &applied.image[..]
    } else {
        db
    };
    let decoded = fields(image, out);
    let mut found = 0usize;
    for r in &applied.uncommitted {
        super::text::strings(&wal[r.clone()], &mut |f| {
            found += 1;
            let offset = match f.at {
                Where::Bytes { offset } => offset + r.start as u64,
                _ => r.start as u64,
            };
            out(Field {
                at: Where::Bytes { offset },
                deleted: true,
                ..f
            })
        });
    }
    if found > 0 {
        notes.push(format!(
            "{found} strings in uncommitted WAL frames marked deleted (offsets in the -wal file)"
        ));
    }
    match decoded {
        Ok(note) => notes.extend(note),
        Err(e) => {
            super::text::strings(image, out);
            notes.push(format!(
                "does not decode as Sqlite ({e}): searched as strings"
            ));
        }
    }
    Ok(Some(notes.join("; ")))
}

/// The image as SQLite will read it from memory: a WAL-mode header (bytes 18-19 = 2)
/// reads as rollback journal (1), as the in-memory database has no WAL of its own.
fn readable(b: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if b.len() >= 20 && b.starts_with(b"SQLite format 3\0") && (b[18] == 2 || b[19] == 2) {
        let mut v = b.to_vec();
        v[18] = 1;
        v[19] = 1;
        std::borrow::Cow::Owned(v)
    } else {
        std::borrow::Cow::Borrowed(b)
    }
}

/// Every cell of every table; the problems of the tables that could not be read.
fn live_fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) -> Result<Vec<String>, String> {
    if let Some(e) = not_a_database(b) {
        return Err(e);
    }
    let conn = open(b).map_err(|e| e.to_string())?;
    let tables: Vec<(String, bool)> = {
        let mut st = conn
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .map_err(|e| e.to_string())?;
        let rows = st
            .query_map([], |r| {
                let sql: Option<String> = r.get(1)?;
                let without_rowid =
                    sql.is_some_and(|s| s.to_ascii_uppercase().contains("WITHOUT ROWID"));
                Ok((r.get::<_, String>(0)?, !without_rowid))
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())?
    };
    let mut budget = MAX_CELLS;
    let mut damaged = Vec::new();
    for (table, has_rowid) in tables {
        if table.starts_with("sqlite_") {
            continue;
        }
        // A damaged table does not hide the others; it is named in the note.
        if let Err(e) = table_fields(&conn, &table, has_rowid, &mut budget, out) {
            if budget == 0 {
                damaged.push(format!("stopped after {MAX_CELLS} cells"));
                break;
            }
            damaged.push(format!("table {table}: {e}"));
        }
    }
    Ok(if damaged.is_empty() {
        Vec::new()
    } else {
        vec![format!("not read in full: {}", damaged.join("; "))]
    })
}

/// SQLite's own error for an image whose header breaks a rule of the file format that
/// SQLite refuses to open (the payload fractions at offsets 21-23 "must be" 64, 32 and 32:
/// <https://www.sqlite.org/fileformat2.html#the_database_header>), said without opening a
/// connection: opening one (SQLite's extensions registered, its caches set up and torn
/// down) is most of the cost of such a file, and a backup can hold many files that carry
/// the header's first bytes and nothing of a database. Any other image goes to SQLite.
fn not_a_database(b: &[u8]) -> Option<String> {
    let fractions = b.get(21..24)?;
    // SQLite's text for SQLITE_NOTADB (a unit test compares the two).
    (b.starts_with(b"SQLite format 3\0") && fractions != [64, 32, 32])
        .then(|| "file is not a database".to_string())
}

/// The database `b` as a read-only in-memory connection.
fn open(b: &[u8]) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, b, b.len(), true)?;
    // Untrusted schema: no triggers or views run code here, but be strict anyway.
    conn.pragma_update(None, "trusted_schema", "OFF")?;
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn table_fields(
    conn: &Connection,
    table: &str,
    has_rowid: bool,
    budget: &mut usize,
    out: &mut dyn FnMut(Field<'_>),
) -> rusqlite::Result<()> {
    let sql = if has_rowid {
        format!("SELECT rowid, * FROM {}", quote(table))
    } else {
        format!("SELECT NULL, * FROM {}", quote(table))
    };
    let mut st = conn.prepare(&sql)?;
    let columns: Vec<String> = st.column_names().skip(1).map(|c| c.to_string()).collect();
    // WebKit LocalStorage: `ItemTable(key, value)`, a value is named by its row's key.
    let key_column = table
        .eq_ignore_ascii_case("ItemTable")
        .then(|| columns.iter().position(|c| c.eq_ignore_ascii_case("key")))
        .flatten();
    let mut rows = st.query([])?;
    while let Some(row) = rows.next()? {
        let rowid: Option<i64> = row.get(0).ok();
        let key: Option<String> = key_column.and_then(|k| row.get(k + 1).ok());
        for (i, column) in columns.iter().enumerate() {
            if *budget == 0 {
                return Err(rusqlite::Error::InvalidQuery);
            }
            *budget -= 1;
            let at = Where::Sqlite {
                table: table.to_owned(),
                column: column.clone(),
                rowid,
            };
            let cell = Cell {
                at,
                column,
                name: match (&key, key_column) {
                    (Some(k), Some(kc)) if kc != i => k,
                    _ => column,
                },
                local_storage: key_column.is_some(),
            };
            match row.get_ref(i + 1)? {
                ValueRef::Text(t) => out(Field::new(cell.at, Some(cell.name), t)),
                ValueRef::Blob(b) => blob(b, &cell, out),
                ValueRef::Integer(i) => number(cell, format_args!("{i}"), ValueType::Integer, out),
                ValueRef::Real(r) => number(cell, format_args!("{r}"), ValueType::Real, out),
                ValueRef::Null => {}
            }
        }
    }
    Ok(())
}

/// A number cell, as a typed-only field (the leak sweep does not search numbers; `tamper`
/// reads them): written into a buffer on the stack, not allocated.
fn number(
    cell: Cell<'_>,
    n: std::fmt::Arguments<'_>,
    ty: ValueType,
    out: &mut dyn FnMut(Field<'_>),
) {
    use std::io::Write;
    let mut buf = [0u8; 40];
    let len = {
        let mut w = &mut buf[..];
        if w.write_fmt(n).is_err() {
            return;
        }
        40 - w.len()
    };
    // Searched by the leak rules too: a number matters by its column's name (a Core Data
    // `ZLATITUDE` is a REAL, a PIN may be an INTEGER), as plist and JSON numbers do.
    out(Field::typed(cell.at, Some(cell.name), &buf[..len], ty))
}

/// Where a cell is and what it is named.
struct Cell<'c> {
    at: Where,
    column: &'c str,
    /// The column, or for LocalStorage the row's key.
    name: &'c str,
    /// Values of `ItemTable` are UTF-16 text in any script.
    local_storage: bool,
}

/// A blob: a plist or JSON is decoded, text searched as text, UTF-16 text (LocalStorage)
/// as its UTF-8, other bytes as strings.
fn blob(b: &[u8], cell: &Cell<'_>, out: &mut dyn FnMut(Field<'_>)) {
    let kind = super::sniff(b);
    if kind == super::Kind::Binary {
        if let Some(text) = utf16le(b, cell.local_storage) {
            return decoded(text.as_bytes(), super::sniff(text.as_bytes()), cell, out);
        }
    }
    decoded(b, kind, cell, out)
}

fn decoded(b: &[u8], kind: super::Kind, cell: &Cell<'_>, out: &mut dyn FnMut(Field<'_>)) {
    let (table, rowid) = match &cell.at {
        Where::Sqlite { table, rowid, .. } => (table.as_str(), *rowid),
        _ => ("", None),
    };
    let mut inner = |f: Field<'_>| {
        let place = match &f.at {
            Where::Plist { .. } | Where::Json { .. } => Where::Sqlite {
                table: table.to_owned(),
                column: format!("{}{}", cell.column, super::describe(&f.at)),
                rowid,
            },
            _ => cell.at.clone(),
        };
        out(Field {
            at: place,
            name: f.name.or(Some(cell.name)),
            ..f
        })
    };
    match kind {
        super::Kind::Plist | super::Kind::Json => {
            super::fields(kind, b, &mut inner);
        }
        super::Kind::Text => inner(Field::typed(
            cell.at.clone(),
            Some(cell.name),
            b,
            ValueType::Data,
        )),
        super::Kind::Binary => super::binary_value(b, &mut inner),
        _ => {}
    }
}

/// UTF-16LE text as UTF-8: even length, no unpaired surrogate, no control character but
/// whitespace, no noncharacter; unless `any_script`, at least half of it ASCII (random
/// bytes decode to "text" in some script far more often than to ASCII).
pub fn utf16le(b: &[u8], any_script: bool) -> Option<String> {
    if b.len() < 2 || b.len() % 2 != 0 {
        return None;
    }
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    let mut s = String::with_capacity(b.len() / 2);
    let mut ascii = 0usize;
    for c in char::decode_utf16(units) {
        let c = c.ok()?;
        let bad = (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            || matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{e000}'..='\u{f8ff}');
        if bad {
            return None;
        }
        ascii += usize::from(c.is_ascii());
        s.push(c);
    }
    let chars = b.len() / 2;
    (any_script || ascii * 2 >= chars).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(sql: &str) -> Vec<u8> {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        c.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
    }

    /// What SQLite itself says of `b`, opened as [`live_fields`] opens it.
    fn sqlite_says(b: &[u8]) -> Result<(), String> {
        let conn = open(b).map_err(|e| e.to_string())?;
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_header_sqlite_refuses_is_refused_as_sqlite_refuses_it() {
        let good = db("CREATE TABLE t (a TEXT); INSERT INTO t VALUES ('x');");
        assert!(sqlite_says(&good).is_ok());
        assert_eq!(not_a_database(&good), None);
        // The magic, then seeded bytes (what a truncated or fake database looks like).
        let mut fake = b"SQLite format 3\0".to_vec();
        let mut x = 0x9e37_79b9_u32;
        fake.extend((0..4080).map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        }));
        let mut bad_fraction = good.clone();
        bad_fraction[21] = 63;
        let mut bad_leaf = good.clone();
        bad_leaf[23] = 33;
        for (name, img) in [
            ("fake", &fake),
            ("fraction", &bad_fraction),
            ("leaf", &bad_leaf),
        ] {
            let ours = not_a_database(img).unwrap_or_else(|| panic!("{name}: not refused"));
            assert_eq!(Err(ours), sqlite_says(img), "{name}");
            assert!(fields(img, &mut |_| {}).is_err(), "{name}");
        }
        // Near misses go to SQLite: a header whose fractions are right (whatever follows),
        // an image too short to hold them, and no magic at all.
        let mut right_fractions = fake.clone();
        right_fractions[21..24].copy_from_slice(&[64, 32, 32]);
        for img in [&right_fractions, &fake[..23].to_vec(), &good[16..].to_vec()] {
            assert_eq!(not_a_database(img), None);
        }
    }

    #[test]
    fn cells_by_table_column_and_rowid() {
        let b = db("CREATE TABLE users(name TEXT, password TEXT, n INTEGER, meta BLOB);
                    INSERT INTO users VALUES('alice', 'hunter2!x', 3, CAST('{\"token\":\"t-1\"}' AS BLOB));
                    CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
                    INSERT INTO kv VALUES('a', 'b');");
        let mut got = Vec::new();
        fields(&b, &mut |f| {
            got.push((
                super::super::describe(&f.at),
                f.name.map(str::to_owned),
                String::from_utf8_lossy(f.value).into_owned(),
            ))
        })
        .unwrap();
        let has = |p: &str, n: &str, v: &str| {
            got.iter()
                .any(|(gp, gn, gv)| gp == p && gn.as_deref() == Some(n) && gv == v)
        };
        assert!(
            has("users.password[rowid 1]", "password", "hunter2!x"),
            "{got:?}"
        );
        assert!(has("users.meta/token[rowid 1]", "token", "t-1"), "{got:?}");
        assert!(has("kv.v", "v", "b"), "{got:?}");
        assert!(fields(b"SQLite format 3\0garbage", &mut |_| {}).is_err());
    }

    #[test]
    fn local_storage_values_are_utf16_text_named_by_key() {
        let utf16 = |t: &str| -> String {
            t.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let b = db(&format!(
            "CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB NOT NULL);
             INSERT INTO ItemTable VALUES('authToken', X'{}');
             INSERT INTO ItemTable VALUES('prefs', X'{}');
             INSERT INTO ItemTable VALUES('kana', X'{}');
             CREATE TABLE other(v BLOB);
             INSERT INTO other VALUES(X'{}');",
            utf16("tok-0123456789abcdef"),
            utf16("{\"refresh\":\"r-1\"}"),
            utf16("ひらがな"),
            utf16("ひらがな"),
        ));
        let mut got = Vec::new();
        fields(&b, &mut |f| {
            got.push((
                super::super::describe(&f.at),
                f.name.map(str::to_owned),
                String::from_utf8_lossy(f.value).into_owned(),
                f.deleted,
            ))
        })
        .unwrap();
        let has = |p: &str, n: &str, v: &str| {
            got.iter()
                .any(|(gp, gn, gv, d)| gp == p && gn.as_deref() == Some(n) && gv == v && !d)
        };
        assert!(
            has(
                "ItemTable.value[rowid 1]",
                "authToken",
                "tok-0123456789abcdef"
            ),
            "{got:?}"
        );
        assert!(
            has("ItemTable.value/refresh[rowid 2]", "refresh", "r-1"),
            "{got:?}"
        );
        assert!(
            has("ItemTable.value[rowid 3]", "kana", "ひらがな"),
            "{got:?}"
        );
        // Outside ItemTable, UTF-16 in another script is not taken as text (near miss).
        assert!(!got
            .iter()
            .any(|(p, _, v, _)| p.starts_with("other") && v == "ひらがな"));
        assert_eq!(
            utf16le(&[0x00, 0xd8, 0x41, 0x00], true),
            None,
            "lone surrogate"
        );
        assert_eq!(utf16le(b"\x01\x00a\x00", true), None, "control");
        assert_eq!(utf16le(b"abc", true), None, "odd length");
    }
}
