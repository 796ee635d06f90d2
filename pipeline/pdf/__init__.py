"""Reading PDFs safely: the strict/lenient reader, size and structure limits, page images."""
