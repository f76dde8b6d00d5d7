package main

import "fmt"

// message is text a command shows the operator word for word: nova-manage's own lines
// (capitalised, with their full stop) and the Python exception texts it prints. It is not a
// Go error string; it implements error only so that a command can fail with it, and is
// printed unchanged ("An error has occurred:" and the message, as nova-manage does).
type message string

func (m message) Error() string { return string(m) }

// messagef formats a message.
func messagef(format string, args ...any) message { return message(fmt.Sprintf(format, args...)) }
