//! Typed, tolerant models of Manifest.plist, Info.plist and Status.plist, and a bounded plist parser.
//!
//! The host tool decides the types in Info.plist and real files disagree with tidy
//! assumptions, so a key of the wrong type becomes a `problems` entry, never a failure. Only a
//! plist that does not parse at all (or whose top level is not a dictionary) is an error.

use plist::{Dictionary, Value};
use std::io::Cursor;
use std::time::{SystemTime, UNIX_EPOCH};

/// Resource limits for [`parse_bounded`]: a binary plist may reference one object many
/// times, so a small file can expand into a huge value tree unless the expansion is capped;
/// and deep nesting would exhaust the stack when the value is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlistLimits {
    /// Maximum number of values after expanding shared references (binary plists).
    pub max_nodes: u64,
    /// Maximum nesting of arrays and dictionaries.
    pub max_depth: u32,
    /// Maximum total bytes of all strings and data after expanding shared references.
    pub max_payload_bytes: u64,
}

impl PlistLimits {
    /// Limits for a top-level plist of `input_len` bytes (Info.plist can be ~10 MB).
    pub fn top_level(input_len: usize) -> Self {
        PlistLimits {
            max_nodes: 4_000_000,
            max_depth: 64,
            max_payload_bytes: (input_len as u64).saturating_mul(8).saturating_add(1 << 20),
        }
    }

    /// Limits for a small embedded archive (an MBFile record, an xattr dictionary).
    pub fn embedded(input_len: usize) -> Self {
        PlistLimits {
            max_nodes: 20_000,
            max_depth: 32,
            max_payload_bytes: (input_len as u64).saturating_mul(8).saturating_add(1 << 16),
        }
    }
}

/// Parse a binary or XML plist into a `Value`, refusing inputs that exceed `limits`
/// (checked on the raw structure before any value is built). ASCII (OpenStep) plists are
/// refused: backups never use them. The error is a human-readable reason.
pub fn parse_bounded(bytes: &[u8], limits: &PlistLimits) -> Result<Value, String> {
    if bytes.is_empty() {
        return Err("empty file (0 bytes), not a property list".to_owned());
    }
    if bytes.starts_with(b"bplist") {
        check_binary(bytes, limits)?;
        Value::from_reader(Cursor::new(bytes))
            .map_err(|e| format!("not a valid binary property list: {e}"))
    } else if looks_like_xml(bytes) {
        check_xml_depth(bytes, limits.max_depth)?;
        Value::from_reader_xml(bytes).map_err(|e| format!("not a valid XML property list: {e}"))
    } else {
        Err("not a property list (neither `bplist00` nor XML)".to_owned())
    }
}

fn looks_like_xml(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'<')
}

/// Nesting of `<array>`/`<dict>` elements (a conservative count: comments are not skipped).
fn check_xml_depth(bytes: &[u8], max_depth: u32) -> Result<(), String> {
    let mut depth: u32 = 0;
    let mut i = 0;
    while let Some(pos) = bytes
        .get(i..)
        .and_then(|s| s.iter().position(|&c| c == b'<'))
    {
        let tag_start = i + pos + 1;
        let Some(len) = bytes
            .get(tag_start..)
            .and_then(|s| s.iter().position(|&c| c == b'>'))
        else {
            break;
        };
        let tag = bytes.get(tag_start..tag_start + len).unwrap_or(&[]);
        i = tag_start + len + 1;
        let self_closing = tag.ends_with(b"/");
        let (closing, name) = match tag.strip_prefix(b"/") {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        let name_end = name
            .iter()
            .position(|c| c.is_ascii_whitespace() || *c == b'/')
            .unwrap_or(name.len());
        let name = name.get(..name_end).unwrap_or(&[]);
        if name != b"array" && name != b"dict" {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing {
            depth += 1;
            if depth > max_depth {
                return Err(format!(
                    "property list nests deeper than {max_depth} levels (limit)"
                ));
            }
        }
    }
    Ok(())
}

fn too_deep(limits: &PlistLimits) -> String {
    format!(
        "property list nests deeper than {} levels (limit)",
        limits.max_depth
    )
}

fn be_uint(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// Structure of one binary-plist object: its payload size and child object references.
struct BinObject {
    payload: u64,
    children: Vec<u64>,
}

struct BinPlist<'a> {
    bytes: &'a [u8],
    offsets: Vec<u64>,
    ref_size: usize,
    table_start: u64,
}

impl BinPlist<'_> {
    fn get(&self, at: u64, n: u64) -> Result<&[u8], String> {
        let end = at.checked_add(n).ok_or("object length overflows")?;
        if end > self.table_start {
            return Err(format!(
                "object at byte {at} runs past the end of the object area"
            ));
        }
        self.bytes
            .get(at as usize..end as usize)
            .ok_or_else(|| format!("object at byte {at} is out of bounds"))
    }

    /// Read the low-nibble length of a marker, or the following integer when it is 0xF.
    fn length(&self, marker: u8, at: u64) -> Result<(u64, u64), String> {
        let low = marker & 0x0F;
        if low != 0x0F {
            return Ok((u64::from(low), at + 1));
        }
        let m = *self.get(at + 1, 1)?.first().ok_or("truncated length")?;
        if m & 0xF0 != 0x10 {
            return Err(format!("object at byte {at}: bad length marker {m:#04x}"));
        }
        let n = 1u64 << (m & 0x0F).min(4);
        let v = be_uint(self.get(at + 2, n)?);
        Ok((v, at + 2 + n))
    }

    fn object(&self, index: u64) -> Result<BinObject, String> {
        let at = *self
            .offsets
            .get(usize::try_from(index).map_err(|_| "object index overflows")?)
            .ok_or_else(|| format!("object reference {index} is out of range"))?;
        let marker = *self.get(at, 1)?.first().ok_or("truncated object")?;
        let leaf = |payload| {
            Ok(BinObject {
                payload,
                children: Vec::new(),
            })
        };
        match marker >> 4 {
            0x0..=0x3 | 0x8 => leaf(0),
            0x4 | 0x5 => leaf(self.length(marker, at)?.0),
            0x6 => leaf(self.length(marker, at)?.0.saturating_mul(2)),
            0xA | 0xC | 0xD => {
                let (count, start) = self.length(marker, at)?;
                let count = if marker >> 4 == 0xD {
                    count.saturating_mul(2)
                } else {
                    count
                };
                let rs = self.ref_size as u64;
                let raw = self.get(
                    start,
                    count.checked_mul(rs).ok_or("collection size overflows")?,
                )?;
                let children = raw.chunks(self.ref_size).map(be_uint).collect();
                Ok(BinObject {
                    payload: 0,
                    children,
                })
            }
            _ => Err(format!("object at byte {at}: unknown marker {marker:#04x}")),
        }
    }
}

/// Walk a binary plist's object graph from the root without building values: reject cycles,
/// and trees that would expand beyond the limits.
fn check_binary(bytes: &[u8], limits: &PlistLimits) -> Result<(), String> {
    if !bytes.starts_with(b"bplist00") {
        return Err("unsupported binary property list version (expected `bplist00`)".to_owned());
    }
    let len = bytes.len();
    if len < 8 + 32 {
        return Err("binary property list is too short (truncated?)".to_owned());
    }
    let trailer = bytes.get(len - 32..).ok_or("truncated trailer")?;
    let off_size = usize::from(trailer[6]);
    let ref_size = usize::from(trailer[7]);
    let num_objects = be_uint(&trailer[8..16]);
    let root = be_uint(&trailer[16..24]);
    let table_off = be_uint(&trailer[24..32]);
    if !matches!(off_size, 1..=8) || !matches!(ref_size, 1..=8) {
        return Err("binary property list trailer is corrupt (truncated?)".to_owned());
    }
    if num_objects > limits.max_nodes || num_objects > len as u64 {
        return Err(format!(
            "binary property list declares {num_objects} objects (too many)"
        ));
    }
    let table_len = num_objects * off_size as u64;
    if table_off < 8 || table_off.saturating_add(table_len) > (len - 32) as u64 {
        return Err("binary property list offset table is out of bounds (truncated?)".to_owned());
    }
    let table = bytes
        .get(table_off as usize..(table_off + table_len) as usize)
        .ok_or("offset table out of bounds")?;
    let offsets: Vec<u64> = table.chunks(off_size).map(be_uint).collect();
    if root >= num_objects {
        return Err("binary property list root object is out of range".to_owned());
    }
    let bp = BinPlist {
        bytes,
        offsets,
        ref_size,
        table_start: table_off,
    };

    // Iterative post-order walk with memoised (nodes, payload, depth) per object.
    let n = num_objects as usize;
    let mut state = vec![0u8; n]; // 0 = new, 1 = on stack, 2 = done
    let mut nodes = vec![0u64; n];
    let mut payload = vec![0u64; n];
    let mut depth = vec![0u32; n];
    let mut stack: Vec<(u64, Vec<u64>, usize)> = Vec::new();
    let obj = bp.object(root)?;
    state[root as usize] = 1;
    payload[root as usize] = obj.payload;
    stack.push((root, obj.children, 0));
    while let Some(top) = stack.last_mut() {
        let next_child = top.1.get(top.2).copied();
        if let Some(child) = next_child {
            top.2 += 1;
            let c = usize::try_from(child)
                .ok()
                .filter(|&c| c < n)
                .ok_or_else(|| format!("object reference {child} is out of range"))?;
            let path_depth = stack.len() as u32;
            match state[c] {
                1 => return Err("binary property list contains a reference cycle".to_owned()),
                2 => {
                    if path_depth.saturating_add(depth[c]) > limits.max_depth {
                        return Err(too_deep(limits));
                    }
                    continue;
                }
                _ => {}
            }
            if path_depth >= limits.max_depth {
                return Err(too_deep(limits));
            }
            let o = bp.object(child)?;
            state[c] = 1;
            payload[c] = o.payload;
            stack.push((child, o.children, 0));
            continue;
        }
        // All children done: fold them into this object's totals.
        let Some((id, children, _)) = stack.pop() else {
            break;
        };
        let i = id as usize;
        let mut total_nodes = 1u64;
        let mut total_payload = payload[i];
        let mut d = 0u32;
        for &c in &children {
            let c = c as usize;
            total_nodes = total_nodes.saturating_add(nodes[c]);
            total_payload = total_payload.saturating_add(payload[c]);
            d = d.max(depth[c]);
        }
        if total_nodes > limits.max_nodes {
            return Err(format!(
                "property list expands to more than {} values (limit)",
                limits.max_nodes
            ));
        }
        if total_payload > limits.max_payload_bytes {
            return Err(format!(
                "property list expands beyond {} bytes (limit)",
                limits.max_payload_bytes
            ));
        }
        nodes[i] = total_nodes;
        payload[i] = total_payload;
        depth[i] = if children.is_empty() { 0 } else { d + 1 };
        state[i] = 2;
    }
    Ok(())
}

/// A short name of a value's type, for problem messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Dictionary(_) => "a dictionary",
        Value::Boolean(_) => "a boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "a date",
        Value::Real(_) => "a real",
        Value::Integer(_) => "an integer",
        Value::String(_) => "a string",
        Value::Uid(_) => "a UID",
        _ => "an unknown type",
    }
}

/// Format a plist date as RFC 3339 UTC with whole seconds, e.g. `2024-06-01T12:00:00Z`.
pub fn date_to_rfc3339(d: plist::Date) -> String {
    let t: SystemTime = d.into();
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(dur) => i64::try_from(dur.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            // floor towards the past for fractional negative times
            if d.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    };
    unix_to_rfc3339(secs)
}

/// Format Unix seconds as RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`), proleptic Gregorian.
/// Out-of-range values (beyond year ±9999) are shown as raw seconds.
pub fn unix_to_rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs} (Unix seconds, out of range)"))
}

/// Typed access to one dictionary that records type problems instead of failing.
struct Fields<'d, 'p> {
    dict: &'d Dictionary,
    /// Where the dictionary is, for messages (e.g. `Manifest.plist Lockdown`).
    ctx: String,
    problems: &'p mut Vec<String>,
}

impl<'d, 'p> Fields<'d, 'p> {
    fn new(dict: &'d Dictionary, ctx: impl Into<String>, problems: &'p mut Vec<String>) -> Self {
        Fields {
            dict,
            ctx: ctx.into(),
            problems,
        }
    }

    fn wrong(&mut self, key: &str, v: &Value, expected: &str) {
        self.problems.push(format!(
            "{}: key `{key}` is {}, expected {expected}",
            self.ctx,
            type_name(v)
        ));
    }

    fn string(&mut self, key: &str) -> Option<String> {
        let v = self.dict.get(key)?;
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Integer(i) => {
                self.wrong(key, v, "a string");
                Some(i.to_string())
            }
            Value::Real(r) => {
                self.wrong(key, v, "a string");
                Some(r.to_string())
            }
            _ => {
                self.wrong(key, v, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        let v = self.dict.get(key)?;
        let loose = match v {
            Value::Boolean(b) => return Some(*b),
            Value::Integer(i) => match i.as_signed() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Some(true),
                "false" | "no" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        self.wrong(key, v, "a boolean");
        loose
    }

    fn data(&mut self, key: &str) -> Option<Vec<u8>> {
        let v = self.dict.get(key)?;
        match v {
            Value::Data(d) => Some(d.clone()),
            _ => {
                self.wrong(key, v, "data");
                None
            }
        }
    }

    /// A date as RFC 3339; a string value is kept as written (some hosts write strings).
    fn date(&mut self, key: &str) -> Option<String> {
        let v = self.dict.get(key)?;
        match v {
            Value::Date(d) => Some(date_to_rfc3339(*d)),
            Value::String(s) => {
                self.wrong(key, v, "a date");
                Some(s.clone())
            }
            _ => {
                self.wrong(key, v, "a date");
                None
            }
        }
    }

    /// A string, or data shown as lower-case hex (e.g. Info.plist `GUID`).
    fn string_or_hex(&mut self, key: &str) -> Option<String> {
        match self.dict.get(key)? {
            Value::Data(d) => Some(hex::encode(d)),
            _ => self.string(key),
        }
    }

    fn string_array(&mut self, key: &str) -> Vec<String> {
        let Some(v) = self.dict.get(key) else {
            return Vec::new();
        };
        let Value::Array(items) = v else {
            self.wrong(key, v, "an array of strings");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        let mut bad = 0usize;
        for item in items {
            match item {
                Value::String(s) => out.push(s.clone()),
                _ => bad += 1,
            }
        }
        if bad > 0 {
            self.problems.push(format!(
                "{}: key `{key}` has {bad} element(s) that are not strings",
                self.ctx
            ));
        }
        out
    }

    fn dict(&mut self, key: &str) -> Option<&'d Dictionary> {
        let v = self.dict.get(key)?;
        match v {
            Value::Dictionary(d) => Some(d),
            _ => {
                self.wrong(key, v, "a dictionary");
                None
            }
        }
    }
}

/// `_file` names the plist for readers of the call site; the caller's error already carries
/// the path, so the message does not repeat it.
fn top_dict<'v>(v: &'v Value, _file: &str) -> Result<&'v Dictionary, String> {
    match v {
        Value::Dictionary(d) => Ok(d),
        other => Err(format!(
            "top level is {}, expected a dictionary",
            type_name(other)
        )),
    }
}

/// `Lockdown` scalars of Manifest.plist (FORMAT §2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lockdown {
    pub build_version: Option<String>,
    pub device_name: Option<String>,
    pub product_type: Option<String>,
    pub product_version: Option<String>,
    pub serial_number: Option<String>,
    pub unique_device_id: Option<String>,
}

/// One `Applications` entry of Manifest.plist (apps, plugins and app groups alike).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppInfo {
    /// The dictionary key (equals `CFBundleIdentifier` in every real sample).
    pub bundle_id: String,
    /// `CFBundleVersion`, else `CFBundleShortVersionString`.
    pub version: Option<String>,
    /// Bundle path on the device.
    pub path: Option<String>,
    /// `Data/Application`, `Data/PluginKitPlugin`, `Shared/AppGroup`, … (absent in one real sample).
    pub container_content_class: Option<String>,
    /// `GroupContainers` (array of strings, or the keys of a dictionary).
    pub group_containers: Vec<String>,
}

/// Manifest.plist (device-written; FORMAT §2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestPlist {
    pub is_encrypted: Option<bool>,
    pub was_passcode_set: Option<bool>,
    pub version: Option<String>,
    pub system_domains_version: Option<String>,
    /// `Date` as RFC 3339 UTC.
    pub date: Option<String>,
    pub lockdown: Lockdown,
    /// Sorted by bundle ID.
    pub applications: Vec<AppInfo>,
    /// `BackupKeyBag` raw TLV bytes (wrapped keys only; not a secret by itself).
    pub keybag: Option<Vec<u8>>,
    /// `ManifestKey`: 4-byte LE class + 40-byte wrapped key (iOS ≥ 10.2 encrypted backups).
    pub manifest_key: Option<Vec<u8>>,
    /// Keys of unexpected types and other oddities (never fatal).
    pub problems: Vec<String>,
}

impl ManifestPlist {
    /// Parse the bytes of a Manifest.plist (binary or XML).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let v = parse_bounded(bytes, &PlistLimits::top_level(bytes.len()))?;
        Self::from_value(&v)
    }

    /// Build from an already parsed plist value.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let d = top_dict(v, "Manifest.plist")?;
        let mut problems = Vec::new();
        let mut m = ManifestPlist::default();
        let (lockdown, apps) = {
            let mut f = Fields::new(d, "Manifest.plist", &mut problems);
            m.is_encrypted = f.boolean("IsEncrypted");
            m.was_passcode_set = f.boolean("WasPasscodeSet");
            m.version = f.string("Version");
            m.system_domains_version = f.string("SystemDomainsVersion");
            m.date = f.date("Date");
            m.keybag = f.data("BackupKeyBag");
            m.manifest_key = f.data("ManifestKey");
            (f.dict("Lockdown"), f.dict("Applications"))
        };
        if let Some(ld) = lockdown {
            let mut f = Fields::new(ld, "Manifest.plist Lockdown", &mut problems);
            m.lockdown = Lockdown {
                build_version: f.string("BuildVersion"),
                device_name: f.string("DeviceName"),
                product_type: f.string("ProductType"),
                product_version: f.string("ProductVersion"),
                serial_number: f.string("SerialNumber"),
                unique_device_id: f.string("UniqueDeviceID"),
            };
        }
        if let Some(apps) = apps {
            m.applications = apps
                .iter()
                .map(|(k, v)| app_info(k, v, &mut problems))
                .collect();
            m.applications.sort_by(|a, b| a.bundle_id.cmp(&b.bundle_id));
        }
        m.problems = problems;
        Ok(m)
    }
}

fn app_info(bundle_id: &str, v: &Value, problems: &mut Vec<String>) -> AppInfo {
    let mut app = AppInfo {
        bundle_id: bundle_id.to_owned(),
        ..AppInfo::default()
    };
    let Value::Dictionary(d) = v else {
        problems.push(format!(
            "Manifest.plist Applications: entry `{bundle_id}` is {}, expected a dictionary",
            type_name(v)
        ));
        return app;
    };
    let mut f = Fields::new(
        d,
        format!("Manifest.plist Applications[{bundle_id}]"),
        problems,
    );
    if let Some(id) = f.string("CFBundleIdentifier") {
        if id != bundle_id {
            f.problems.push(format!(
                "Manifest.plist Applications: entry `{bundle_id}` has CFBundleIdentifier `{id}`"
            ));
        }
    }
    app.version = f
        .string("CFBundleVersion")
        .or_else(|| f.string("CFBundleShortVersionString"));
    app.path = f.string("Path");
    app.container_content_class = f.string("ContainerContentClass");
    app.group_containers = match d.get("GroupContainers") {
        Some(Value::Dictionary(g)) => g.keys().cloned().collect(),
        Some(_) => f.string_array("GroupContainers"),
        None => Vec::new(),
    };
    app
}

/// Info.plist (host-written; FORMAT §2.3). Types vary by host tool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InfoPlist {
    pub device_name: Option<String>,
    pub display_name: Option<String>,
    pub product_type: Option<String>,
    pub product_name: Option<String>,
    pub product_version: Option<String>,
    pub build_version: Option<String>,
    pub serial_number: Option<String>,
    pub unique_identifier: Option<String>,
    pub target_identifier: Option<String>,
    /// `GUID`: a string, or 16-byte data shown as hex (host-dependent).
    pub guid: Option<String>,
    /// RFC 3339 UTC (or the string as written when the host wrote a string).
    pub last_backup_date: Option<String>,
    pub installed_applications: Vec<String>,
    /// Keys of the `Applications` dictionary, sorted.
    pub application_ids: Vec<String>,
    pub itunes_version: Option<String>,
    pub problems: Vec<String>,
}

impl InfoPlist {
    /// Parse the bytes of an Info.plist (XML or binary).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let v = parse_bounded(bytes, &PlistLimits::top_level(bytes.len()))?;
        Self::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Self, String> {
        let d = top_dict(v, "Info.plist")?;
        let mut problems = Vec::new();
        let mut i = InfoPlist::default();
        {
            let mut f = Fields::new(d, "Info.plist", &mut problems);
            i.device_name = f.string("Device Name");
            i.display_name = f.string("Display Name");
            i.product_type = f.string("Product Type");
            i.product_name = f.string("Product Name");
            i.product_version = f.string("Product Version");
            i.build_version = f.string("Build Version");
            i.serial_number = f.string("Serial Number");
            i.unique_identifier = f.string("Unique Identifier");
            i.target_identifier = f.string("Target Identifier");
            i.guid = f.string_or_hex("GUID");
            i.last_backup_date = f.date("Last Backup Date");
            i.installed_applications = f.string_array("Installed Applications");
            i.itunes_version = f.string("iTunes Version");
            if let Some(apps) = f.dict("Applications") {
                let mut ids: Vec<String> = apps.keys().cloned().collect();
                ids.sort();
                i.application_ids = ids;
            }
        }
        i.problems = problems;
        Ok(i)
    }
}

/// Status.plist (FORMAT §2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusPlist {
    pub backup_state: Option<String>,
    /// `"finished"` when the backup completed.
    pub snapshot_state: Option<String>,
    pub is_full_backup: Option<bool>,
    pub uuid: Option<String>,
    pub date: Option<String>,
    pub version: Option<String>,
    pub problems: Vec<String>,
}

impl StatusPlist {
    /// Parse the bytes of a Status.plist.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let v = parse_bounded(bytes, &PlistLimits::top_level(bytes.len()))?;
        Self::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Self, String> {
        let d = top_dict(v, "Status.plist")?;
        let mut problems = Vec::new();
        let mut s = StatusPlist::default();
        {
            let mut f = Fields::new(d, "Status.plist", &mut problems);
            s.backup_state = f.string("BackupState");
            s.snapshot_state = f.string("SnapshotState");
            s.is_full_backup = f.boolean("IsFullBackup");
            s.uuid = f.string("UUID");
            s.date = f.date("Date");
            s.version = f.string("Version");
        }
        s.problems = problems;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::test_support::shared;

    fn read(p: &Path) -> Vec<u8> {
        std::fs::read(p).unwrap()
    }

    #[test]
    fn rfc3339_formatting() {
        // Values checked with python3 datetime.fromtimestamp(x, timezone.utc).
        assert_eq!(unix_to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(unix_to_rfc3339(1_717_243_200), "2024-06-01T12:00:00Z");
        assert_eq!(unix_to_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(unix_to_rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(unix_to_rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    #[test]
    fn bounded_parser_basics_and_errors() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>A</key><array><integer>1</integer><string>x</string></array>
<key>B</key><dict/></dict></plist>"#;
        let v = parse_bounded(xml, &PlistLimits::top_level(xml.len())).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(d.get("A").unwrap().as_array().unwrap().len(), 2);
        assert!(d.get("B").unwrap().as_dictionary().unwrap().is_empty());

        // too deep (XML): the dict holds an array, two levels
        let lim = PlistLimits {
            max_nodes: 100,
            max_depth: 1,
            max_payload_bytes: 1000,
        };
        assert!(parse_bounded(xml, &lim)
            .unwrap_err()
            .contains("deeper than 1"));
        let lim = PlistLimits {
            max_nodes: 100,
            max_depth: 2,
            max_payload_bytes: 1000,
        };
        assert!(parse_bounded(xml, &lim).is_ok());
        // the same in binary: 7 values (dict, 2 keys, array, 2 scalars, empty dict)
        let mut buf = Vec::new();
        v.to_writer_binary(&mut buf).unwrap();
        assert_eq!(
            parse_bounded(&buf, &PlistLimits::top_level(buf.len())).unwrap(),
            v
        );
        let lim = PlistLimits {
            max_nodes: 6,
            max_depth: 8,
            max_payload_bytes: 1000,
        };
        let e = parse_bounded(&buf, &lim).unwrap_err();
        assert_eq!(e, "binary property list declares 7 objects (too many)");
        let lim = PlistLimits {
            max_nodes: 7,
            max_depth: 8,
            max_payload_bytes: 1000,
        };
        assert!(parse_bounded(&buf, &lim).is_ok());
        let lim = PlistLimits {
            max_nodes: 100,
            max_depth: 1,
            max_payload_bytes: 1000,
        };
        assert!(parse_bounded(&buf, &lim)
            .unwrap_err()
            .contains("deeper than 1"));
        // ASCII plists are refused
        assert!(parse_bounded(b"{ a = b; }", &PlistLimits::top_level(10))
            .unwrap_err()
            .contains("not a property list"));
        assert!(parse_bounded(&buf[..buf.len() - 10], &PlistLimits::top_level(buf.len())).is_err());
        assert!(parse_bounded(b"", &PlistLimits::top_level(0)).is_err());
        assert!(parse_bounded(b"bplist00\xff\xff\xff", &PlistLimits::top_level(11)).is_err());
    }

    #[test]
    fn shared_objects_cannot_expand_without_bound() {
        // A binary plist whose array references the same 1000-byte data object 200 times:
        // object table = [array, data]; payload after expansion = 200_000 bytes.
        let mut b = b"bplist00".to_vec();
        let arr_off = b.len();
        b.push(0xAF); // array, length follows
        b.push(0x11); // int marker, 2 bytes
        b.extend_from_slice(&200u16.to_be_bytes());
        b.extend(std::iter::repeat_n(1u8, 200)); // refs to object 1
        let data_off = b.len();
        b.push(0x4F);
        b.push(0x11);
        b.extend_from_slice(&1000u16.to_be_bytes());
        b.extend(std::iter::repeat_n(0xAAu8, 1000));
        let table_off = b.len();
        b.extend_from_slice(&(arr_off as u16).to_be_bytes());
        b.extend_from_slice(&(data_off as u16).to_be_bytes());
        b.extend_from_slice(&[0; 6]);
        b.push(2); // offset size
        b.push(1); // ref size
        b.extend_from_slice(&2u64.to_be_bytes());
        b.extend_from_slice(&0u64.to_be_bytes());
        b.extend_from_slice(&(table_off as u64).to_be_bytes());
        let generous = PlistLimits {
            max_nodes: 1000,
            max_depth: 4,
            max_payload_bytes: 1 << 20,
        };
        let v = parse_bounded(&b, &generous).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 200);
        let tight = PlistLimits {
            max_nodes: 1000,
            max_depth: 4,
            max_payload_bytes: 50_000,
        };
        assert!(parse_bounded(&b, &tight)
            .unwrap_err()
            .contains("expands beyond"));
        let few = PlistLimits {
            max_nodes: 100,
            max_depth: 4,
            max_payload_bytes: 1 << 20,
        };
        assert!(parse_bounded(&b, &few)
            .unwrap_err()
            .contains("more than 100 values"));
        // A self-referencing array (cycle) is refused, not looped over.
        let mut c = b"bplist00".to_vec();
        c.extend_from_slice(&[0xA1, 0x00]); // array of 1 -> object 0 (itself)
        c.extend_from_slice(&[8]); // offset table
        c.extend_from_slice(&[0; 6]);
        c.extend_from_slice(&[1, 1]);
        c.extend_from_slice(&1u64.to_be_bytes());
        c.extend_from_slice(&0u64.to_be_bytes());
        c.extend_from_slice(&10u64.to_be_bytes());
        assert!(parse_bounded(&c, &generous).unwrap_err().contains("cycle"));
    }

    #[test]
    fn mutated_binary_plists_never_panic() {
        let mut d = Dictionary::new();
        d.insert("IsEncrypted".into(), Value::Boolean(true));
        d.insert("BackupKeyBag".into(), Value::Data(vec![0x56; 300]));
        d.insert("Version".into(), Value::String("10.0".into()));
        d.insert("When".into(), Value::Date(SystemTime::UNIX_EPOCH.into()));
        d.insert("Uni".into(), Value::String("h\u{e9}llo \u{1f600}".into()));
        let apps: Dictionary = (0..20)
            .map(|i| {
                let mut a = Dictionary::new();
                a.insert(
                    "CFBundleIdentifier".into(),
                    Value::String(format!("com.x.{i}")),
                );
                a.insert("N".into(), Value::Integer((i * 1000).into()));
                (format!("com.x.{i}"), Value::Dictionary(a))
            })
            .collect();
        d.insert("Applications".into(), Value::Dictionary(apps));
        let mut good = Vec::new();
        Value::Dictionary(d).to_writer_binary(&mut good).unwrap();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut parsed = 0;
        for _ in 0..3000 {
            let mut b = good.clone();
            for _ in 0..(1 + next() % 4) {
                let i = (next() % b.len() as u64) as usize;
                b[i] = next() as u8;
            }
            if next() % 5 == 0 {
                b.truncate((next() % b.len() as u64) as usize);
            }
            if let Ok(v) = parse_bounded(&b, &PlistLimits::top_level(b.len())) {
                parsed += 1;
                let _ = ManifestPlist::from_value(&v);
            }
        }
        // Some mutations only touch payload bytes and still parse; most do not.
        assert!(parsed > 0 && parsed < 3000, "{parsed}");
    }

    #[test]
    fn wrong_types_are_problems_not_failures() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>IsEncrypted</key><string>yes</string>
<key>WasPasscodeSet</key><integer>7</integer>
<key>Version</key><real>10.0</real>
<key>Date</key><string>yesterday</string>
<key>BackupKeyBag</key><string>not data</string>
<key>Lockdown</key><array/>
<key>Applications</key><dict>
  <key>b.app</key><dict><key>CFBundleIdentifier</key><string>other.id</string>
     <key>CFBundleShortVersionString</key><string>2.1</string>
     <key>GroupContainers</key><array><string>group.x</string><integer>3</integer></array></dict>
  <key>a.app</key><string>oops</string>
</dict></dict></plist>"#;
        let m = ManifestPlist::parse(xml).unwrap();
        assert_eq!(m.is_encrypted, Some(true));
        assert_eq!(m.was_passcode_set, None);
        assert_eq!(m.version.as_deref(), Some("10"));
        assert_eq!(m.date.as_deref(), Some("yesterday"));
        assert_eq!(m.keybag, None);
        assert_eq!(m.lockdown, Lockdown::default());
        assert_eq!(m.applications.len(), 2);
        assert_eq!(m.applications[0].bundle_id, "a.app");
        assert_eq!(m.applications[1].version.as_deref(), Some("2.1"));
        assert_eq!(
            m.applications[1].group_containers,
            vec!["group.x".to_string()]
        );
        let p = m.problems.join("\n");
        for needle in [
            "`IsEncrypted` is a string",
            "`WasPasscodeSet` is an integer",
            "`Version` is a real",
            "`Date` is a string",
            "`BackupKeyBag` is a string",
            "`Lockdown` is an array",
            "entry `a.app` is a string",
            "CFBundleIdentifier `other.id`",
            "1 element(s) that are not strings",
        ] {
            assert!(p.contains(needle), "missing {needle:?} in\n{p}");
        }
        assert_eq!(m.problems.len(), 9);
        // Not a dictionary at the top: an error.
        let e = ManifestPlist::parse(b"<plist><array/></plist>").unwrap_err();
        assert!(e.contains("top level is an array"), "{e}");
        assert!(StatusPlist::parse(b"garbage \x00\x01").is_err());
    }

    #[test]
    fn conformance_small_unencrypted_plists() {
        let Some(dir) = shared("conformance/small-unencrypted/00008120-001A2B3C4D5E801E") else {
            return;
        };
        let m = ManifestPlist::parse(&read(&dir.join("Manifest.plist"))).unwrap();
        assert_eq!(m.is_encrypted, Some(false));
        assert_eq!(m.was_passcode_set, Some(true));
        assert_eq!(m.version.as_deref(), Some("10.0"));
        assert_eq!(m.system_domains_version.as_deref(), Some("24.0"));
        assert_eq!(m.date.as_deref(), Some("2024-06-01T12:00:00Z"));
        assert_eq!(
            m.lockdown.unique_device_id.as_deref(),
            Some("00008120-001A2B3C4D5E801E")
        );
        assert_eq!(m.lockdown.product_type.as_deref(), Some("iPhone15,2"));
        assert_eq!(m.lockdown.product_version.as_deref(), Some("17.5.1"));
        assert_eq!(m.lockdown.build_version.as_deref(), Some("21F90"));
        assert_eq!(m.lockdown.serial_number.as_deref(), Some("F2LZK0ORACLE"));
        assert_eq!(
            m.lockdown.device_name.as_deref(),
            Some("Oracle Test iPhone")
        );
        let apps: Vec<(&str, Option<&str>)> = m
            .applications
            .iter()
            .map(|a| (a.bundle_id.as_str(), a.version.as_deref()))
            .collect();
        assert_eq!(
            apps,
            vec![
                ("com.example.bank", Some("5.2.1")),
                ("com.example.game", Some("1.0.7")),
                ("com.example.notes", Some("3.1")),
                ("com.example.vpn", Some("2.0")),
            ]
        );
        assert!(m
            .applications
            .iter()
            .all(|a| a.container_content_class.as_deref() == Some("Data/Application")));
        assert_eq!(m.manifest_key, None);
        assert!(m.keybag.as_ref().unwrap().starts_with(b"VERS"));
        assert!(m.problems.is_empty(), "{:?}", m.problems);

        let i = InfoPlist::parse(&read(&dir.join("Info.plist"))).unwrap();
        assert_eq!(i.device_name.as_deref(), Some("Oracle Test iPhone"));
        assert_eq!(i.product_name.as_deref(), Some("iPhone 14 Pro"));
        assert_eq!(
            i.unique_identifier.as_deref(),
            Some("00008120-001A2B3C4D5E801E")
        );
        assert_eq!(i.guid.as_deref(), Some("2240D79E0F9D3369FDF9D361C9B9A6B6"));
        assert_eq!(i.last_backup_date.as_deref(), Some("2024-06-01T12:00:00Z"));
        assert_eq!(i.itunes_version.as_deref(), Some("12.13.2.3"));
        assert_eq!(
            i.installed_applications,
            [
                "com.example.bank",
                "com.example.game",
                "com.example.notes",
                "com.example.vpn"
            ]
        );
        assert_eq!(i.application_ids, i.installed_applications);
        assert!(i.problems.is_empty());

        let s = StatusPlist::parse(&read(&dir.join("Status.plist"))).unwrap();
        assert_eq!(s.snapshot_state.as_deref(), Some("finished"));
        assert_eq!(s.backup_state.as_deref(), Some("new"));
        assert_eq!(s.is_full_backup, Some(false));
        assert_eq!(
            s.uuid.as_deref(),
            Some("9FDCFBC5-9C52-5D8B-C854-21037AE252B1")
        );
        assert_eq!(s.version.as_deref(), Some("3.3"));
        assert_eq!(s.date.as_deref(), Some("2024-06-01T12:00:00Z"));
    }

    /// Facts cross-checked with python3 plistlib (see the report).
    #[test]
    fn john_samples_real_manifests() {
        let Some(dir) = shared("external/john-samples") else {
            return;
        };
        let m10 = ManifestPlist::parse(&read(&dir.join("Manifest-10-test123.plist"))).unwrap();
        assert_eq!(m10.is_encrypted, Some(true));
        assert_eq!(m10.was_passcode_set, Some(true));
        assert_eq!(m10.version.as_deref(), Some("10.0"));
        assert_eq!(m10.system_domains_version.as_deref(), Some("24.0"));
        assert_eq!(m10.date.as_deref(), Some("2016-12-12T19:40:25Z"));
        assert_eq!(m10.lockdown.product_version.as_deref(), Some("10.2"));
        assert_eq!(m10.lockdown.product_type.as_deref(), Some("iPhone7,2"));
        assert_eq!(m10.lockdown.build_version.as_deref(), Some("14C92"));
        assert_eq!(m10.lockdown.device_name.as_deref(), Some("Mike's iPhone"));
        assert_eq!(m10.lockdown.serial_number.as_deref(), Some("C39NX3DYG5MN"));
        assert_eq!(
            m10.lockdown.unique_device_id.as_deref(),
            Some("990487a49edb7874692fe6728ff642fdc77ffb49")
        );
        assert_eq!(m10.keybag.as_ref().map(Vec::len), Some(1388));
        assert_eq!(
            m10.manifest_key.as_deref().map(hex::encode).as_deref(),
            Some("04000000e9d14907cd00da4817bfe959743ac486cd36d21eb4b33eec8393084940e0556ba7d708a2dc38cdb4")
        );
        assert_eq!(m10.applications.len(), 144);
        let count = |m: &ManifestPlist, c: &str| {
            m.applications
                .iter()
                .filter(|a| a.container_content_class.as_deref() == Some(c))
                .count()
        };
        assert_eq!(count(&m10, "Data/PluginKitPlugin"), 94);
        assert_eq!(count(&m10, "Data/Application"), 41);
        assert_eq!(count(&m10, "Shared/AppGroup"), 9);
        assert_eq!(
            m10.applications
                .iter()
                .filter(|a| a.version.is_some())
                .count(),
            40
        );
        assert_eq!(
            m10.applications.iter().filter(|a| a.path.is_some()).count(),
            135
        );
        assert_eq!(
            m10.applications[0].bundle_id,
            "243LU875E5.groups.com.apple.podcasts"
        );
        let news = m10
            .applications
            .iter()
            .find(|a| a.bundle_id == "com.apple.news")
            .unwrap();
        assert_eq!(news.version.as_deref(), Some("750"));
        assert_eq!(news.path.as_deref(), Some("/Applications/News.app"));
        assert!(m10.problems.is_empty(), "{:?}", m10.problems);

        let m9 = ManifestPlist::parse(&read(&dir.join("Manifest-9-123456.plist"))).unwrap();
        assert_eq!(m9.version.as_deref(), Some("9.1"));
        assert_eq!(m9.was_passcode_set, Some(false));
        assert_eq!(m9.manifest_key, None);
        assert_eq!(m9.keybag.as_ref().map(Vec::len), Some(1336));
        assert_eq!(m9.lockdown.product_type.as_deref(), Some("iPad2,2"));
        assert_eq!(m9.lockdown.product_version.as_deref(), Some("9.3.5"));
        assert_eq!(m9.applications.len(), 69);
        // A real oddity: an app entry with neither ContainerContentClass nor Path.
        let vshare = m9
            .applications
            .iter()
            .find(|a| a.bundle_id == "com.appvv.vshare")
            .unwrap();
        assert_eq!(vshare.container_content_class, None);
        assert_eq!(vshare.path, None);
        assert_eq!(vshare.version, None);

        let m9b = ManifestPlist::parse(&read(&dir.join("Manifest-9-test123.plist"))).unwrap();
        assert_eq!(m9b.applications.len(), 67);
        assert_eq!(m9b.lockdown.build_version.as_deref(), Some("13E233"));
        assert_eq!(m9b.date.as_deref(), Some("2016-12-12T18:49:16Z"));
    }

    #[test]
    fn cowabungalite_xml_manifest_without_is_encrypted() {
        let Some(p) = shared("external/cowabungalite/Manifest.plist") else {
            return;
        };
        let m = ManifestPlist::parse(&read(&p)).unwrap();
        assert_eq!(m.is_encrypted, None);
        assert_eq!(m.was_passcode_set, None);
        assert_eq!(m.version.as_deref(), Some("9.1"));
        assert_eq!(m.system_domains_version.as_deref(), Some("20.0"));
        assert_eq!(m.keybag.as_ref().map(Vec::len), Some(1336));
        assert_eq!(m.lockdown, Lockdown::default());
        assert!(m.applications.is_empty());
        assert!(m.problems.is_empty());
    }
}
