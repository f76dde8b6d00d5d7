// Package cellurl reproduces OpenStack Nova's "template URLs" for cell
// mappings (nova/objects/cell_mapping.py, added in 18.0.0 Rocky) and the
// password masking that nova-manage cell_v2 list_cells applies for display.
//
// A cell's transport_url or database_connection may be stored as a template
// such as
//
//	rabbit://{username}:{password}@otherhost/{path}
//
// whose variables are filled from a base URL (for Nova, [DEFAULT]/transport_url
// or [database]/connection of the local process). [Expand] follows Nova's
// rules exactly:
//
//   - the base is split the way Python's urllib.parse.urlparse splits it
//     (scheme, username, password, hostname, port, path without its leading
//     slashes, query without '?', fragment without '#');
//   - a base whose netloc contains ',' (the oslo.messaging multi-host form
//     user1:pass1@host1:port1,user2:pass2@host2:port2) also provides the
//     1-based indexed variables username1, password1, hostname1, port1, ...,
//     each piece split like Nova's _parse_netloc with oslo.utils'
//     netutils.parse_host_port;
//   - substitution behaves like Python's str.format(**subs): "{{" and "}}" are
//     literal braces, a value Python holds as None renders as "None", and any
//     error (unknown variable, malformed braces, unparsable base, invalid port
//     in the base) leaves the whole template unchanged, never partially
//     substituted.
//
// Deliberate differences from Nova:
//
//   - [Mask] masks each password of a multi-host netloc separately
//     ("rabbit://u1:****@h1,u2:****@h2/"), whereas Nova's greedy
//     re.sub(':.*@', ':****@', netloc) collapses the whole netloc to
//     "u1:****@h2". Mask also leaves everything outside the netloc byte for
//     byte as given (Nova's urlunparse round trip can rewrite it, for example
//     "none:///" into "none:/"), and it masks a netloc even when Python would
//     reject the URL (for example unbalanced IPv6 brackets).
//   - Replacement fields are limited to plain variable names. Conversions,
//     format specifications, attribute and index access ("{port:d}",
//     "{username!s}", "{username[0]}") are treated as malformed and leave the
//     template unchanged, although Python would accept some of them.
//   - Hostnames are lower-cased with Go's Unicode case mapping (plus U+0130's
//     full mapping); Python's context-sensitive final-sigma rule and its NFKC
//     check of non-ASCII netlocs are not reproduced.
package cellurl
