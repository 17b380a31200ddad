-- Several reports in one Pandoc process: each top-level Div `rg-report-N` is one report, whose citations and
-- bibliography are formatted on their own (pandoc.utils.citeproc), exactly as `pandoc --citeproc` formats a document
-- of its own, with that report's sources only (`sources-N.json`, one of the files named on the command line).
-- Part of report-generator (generator/sources/references.py, FormatPipeline).
function Pandoc(doc)
  local files = {}
  local named = doc.meta.bibliography
  if pandoc.utils.type(named) ~= "List" then  -- one file on the command line: a single value, not a list
    named = {named}
  end
  for _, file in ipairs(named) do
    local name = pandoc.utils.stringify(file)
    local number = name:match("/sources%-(%d+)%.json$")
    if number then
      files[number] = name
    end
  end
  local reports = {}
  for _, block in ipairs(doc.blocks) do
    local number = block.t == "Div" and block.identifier:match("^rg%-report%-(%d+)$")
    if number and files[number] then
      local meta = doc.meta
      meta.bibliography = files[number]
      local formatted = pandoc.utils.citeproc(pandoc.Pandoc(block.content, meta))
      reports[#reports + 1] = pandoc.Div(formatted.blocks, block.attr)
    end
  end
  return pandoc.Pandoc(reports, doc.meta)
end
