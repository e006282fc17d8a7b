"""Line-by-line reading of UTF-8 corpus files, with line numbers for error messages
(the shared reader of textfiles.py: BOM dropped, CRLF ends a line)."""
from ...textfiles import check_readable, iter_lines, parse_json_line

__all__ = ["check_readable", "iter_lines", "parse_json_line"]
