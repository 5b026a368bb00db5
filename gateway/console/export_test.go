package console

// CodesShown is codesShown for the browser tests (package console_test):
// the display-name table's codes a page shows as text.
var CodesShown = codesShown
