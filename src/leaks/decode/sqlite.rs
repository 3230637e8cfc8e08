//! SQLite databases, opened from memory: every text cell (and blob, decoded) by table,
//! column and rowid.
//!
//! The database is handed to SQLite as a read-only in-memory image (`sqlite3_deserialize`):
//! nothing is written to disk and SQLite opens no other file. Hostile databases are bounded
//! by SQLite itself (it checks page structure as it reads) and by [`MAX_CELLS`].

use super::{Field, Where};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// Cells read from one database at most (a bound on hostile or huge stores).
pub const MAX_CELLS: usize = 5_000_000;

/// Hand every text and blob cell of every table to `out`. `Ok(Some(note))` when some
/// tables could not be read (the others were).
pub fn fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) -> Result<Option<String>, String> {
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
    Ok((!damaged.is_empty()).then(|| format!("not read in full: {}", damaged.join("; "))))
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
    let mut rows = st.query([])?;
    while let Some(row) = rows.next()? {
        let rowid: Option<i64> = row.get(0).ok();
        for (i, column) in columns.iter().enumerate() {
            if *budget == 0 {
                return Err(rusqlite::Error::InvalidQuery);
            }
            *budget -= 1;
            let at = || Where::Sqlite {
                table: table.to_owned(),
                column: column.clone(),
                rowid,
            };
            match row.get_ref(i + 1)? {
                ValueRef::Text(t) => out(Field {
                    at: at(),
                    name: Some(column),
                    value: t,
                }),
                ValueRef::Blob(b) => blob(b, at(), column, out),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A blob: a plist or JSON is decoded, text searched as text, other bytes as strings.
fn blob(b: &[u8], at: Where, column: &str, out: &mut dyn FnMut(Field<'_>)) {
    let kind = super::sniff(b);
    let mut inner = |f: Field<'_>| {
        let place = match &f.at {
            Where::Plist { .. } | Where::Json { .. } => Where::Sqlite {
                table: match &at {
                    Where::Sqlite { table, .. } => table.clone(),
                    _ => String::new(),
                },
                column: format!("{column}{}", super::describe(&f.at)),
                rowid: match &at {
                    Where::Sqlite { rowid, .. } => *rowid,
                    _ => None,
                },
            },
            _ => at.clone(),
        };
        out(Field {
            at: place,
            name: f.name.or(Some(column)),
            value: f.value,
        })
    };
    match kind {
        super::Kind::Plist | super::Kind::Json => {
            super::fields(kind, b, &mut inner);
        }
        super::Kind::Text => inner(Field {
            at: at.clone(),
            name: Some(column),
            value: b,
        }),
        super::Kind::Binary => super::text::strings(b, &mut inner),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(sql: &str) -> Vec<u8> {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        c.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
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
}
