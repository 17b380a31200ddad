-- Several reports in one Pandoc process: each top-level Div is one report, whose citations and bibliography are
-- formatted on their own (pandoc.utils.citeproc), exactly as `pandoc --citeproc` formats a document of its own.
-- Part of report-generator (generator/sources/references.py, ReferenceFormatter.format_many).
function Pandoc(doc)
  local reports = {}
  for _, block in ipairs(doc.blocks) do
    if block.t == "Div" then
      local formatted = pandoc.utils.citeproc(pandoc.Pandoc(block.content, doc.meta))
      reports[#reports + 1] = pandoc.Div(formatted.blocks, block.attr)
    end
  end
  return pandoc.Pandoc(reports, doc.meta)
end
