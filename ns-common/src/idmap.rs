//! User-namespace id maps: parsing `--map-users`/`--map-groups` ranges and writing uid_map/gid_map.
//! (Filled in with unshare, issue #3.)
