package validate

import "unicode/utf8"

// Bounds of flavors and compute hosts.
const (
	// MaxSize bounds vcpus, ram_mb and disk_gb of a flavor or a compute host (Nova's INT
	// columns). A cell's capacity adds them up over its hosts, which stays far from int64's end.
	MaxSize = 1<<31 - 1
	// MaxExtraSpecs bounds a flavor's extra specs.
	MaxExtraSpecs = 100
	// MaxURLLen bounds transport URLs and database connections, in bytes.
	MaxURLLen = 4096
)

// Sizes checks the vcpus, ram_mb and disk_gb of what (a flavor or a compute host): vcpus and
// ram_mb 1..MaxSize, disk_gb 0..MaxSize.
func Sizes(what string, vcpus, ramMB, diskGB int64) error {
	if vcpus < 1 || ramMB < 1 || diskGB < 0 {
		return invalidf("%s needs vcpus >= 1, ram_mb >= 1 and disk_gb >= 0", what)
	}
	if vcpus > MaxSize || ramMB > MaxSize || diskGB > MaxSize {
		return invalidf("%s: vcpus, ram_mb and disk_gb must be at most %d", what, MaxSize)
	}
	return nil
}

// ExtraSpecs checks a flavor's extra specs: at most MaxExtraSpecs, keys and values that pass
// Name (keys required).
func ExtraSpecs(field string, m map[string]string) error {
	if len(m) > MaxExtraSpecs {
		return invalidf("%s has %d items, more than %d", field, len(m), MaxExtraSpecs)
	}
	for k, v := range m {
		if err := Name(field+" key", k, true); err != nil {
			return err
		}
		if err := Name(field+" value", v, false); err != nil {
			return err
		}
	}
	return nil
}

// URL checks a transport URL or database connection of field: present, at most MaxURLLen
// bytes of valid UTF-8 without control characters.
func URL(field, s string) error {
	switch {
	case s == "":
		return invalidf("%s is required", field)
	case len(s) > MaxURLLen:
		return invalidf("%s is longer than %d bytes", field, MaxURLLen)
	case !utf8.ValidString(s) || containsControl(s):
		return invalidf("%s must be valid UTF-8 without control characters", field)
	}
	return nil
}
