-- VidMusician for DaVinci Resolve in Lua: the door the free edition keeps open.
--
-- Resolve 21.1 lists Python scripts in Workspace > Scripts in the Studio edition only; Lua
-- scripts still list in both. Resolve's Lua API is the same object model as its Python one
-- (Timeline:Export, MediaPool:ImportMedia, MediaPool:AppendToTimeline), so this launcher does
-- what ui/hosts/resolve_launch.py does: export the current timeline as OTIO, run `vm-editor score`
-- with this install's Python (io.popen: its lines reach Workspace > Console as they come), then
-- fill the audio track "VidMusician score" from the "VidMusician" bin. What to remove and place is
-- decided by `python -m vm_editor.host_bridge sync`, the same rule as the Python launcher's.
--
-- `vm-editor install-host resolve` writes one copy per action, after a header that sets
-- VIDMUSICIAN = { python = ..., action = "score" | "update" | "panel", score_args = {...} }.
-- Lua 5.1 (LuaJIT) as Resolve embeds it: no goto, no integer division, no os exit status from
-- io.popen's close (success is read from the command's own lines: `wrote ...`, `error: ...`).

local SCORE_TRACK_NAME = "VidMusician score"
local BIN_NAME = "VidMusician"
local WINDOWS = package.config:sub(1, 1) == "\\"

local function say(line)
  print(line)
end

local function fail(message)
  error({ vidmusician = message }, 0)
end

local function quote(arg)
  arg = tostring(arg)
  if WINDOWS then
    return '"' .. arg:gsub('"', '\\"') .. '"'
  end
  return "'" .. arg:gsub("'", "'\\''") .. "'"
end

local function command_line(args)
  local parts = { quote(VIDMUSICIAN.python) }
  for _, arg in ipairs(args) do
    parts[#parts + 1] = quote(arg)
  end
  local line = table.concat(parts, " ") .. " 2>&1"
  if WINDOWS then
    line = '"' .. line .. '"' -- cmd.exe strips one pair of outer quotes
  end
  return line
end

-- Runs this install's Python with `args`; each output line (a carriage return ends one too) goes
-- to `on_line` as it comes. Returns the lines.
local function stream(args, on_line)
  local handle = io.popen(command_line(args), "r")
  if not handle then
    fail("cannot run " .. VIDMUSICIAN.python .. "; run `vm-editor install-host resolve` again")
  end
  local lines, buffer = {}, {}
  local function flush()
    local line = table.concat(buffer)
    buffer = {}
    if line:match("%S") then
      lines[#lines + 1] = line
      if on_line then
        on_line(line)
      end
    end
  end
  while true do
    local char = handle:read(1)
    if not char then
      break
    end
    if char == "\n" or char == "\r" then
      flush()
    else
      buffer[#buffer + 1] = char
    end
  end
  flush()
  handle:close()
  return lines
end

local function last_error(lines)
  for i = #lines, 1, -1 do
    local message = lines[i]:match("^error:%s*(.*)$")
    if message then
      return message
    end
  end
  return nil
end

-- A short bridge command whose whole answer is read; an `error:` line is the editor's message.
local function bridge(args)
  local full = { "-m", "vm_editor.host_bridge" }
  for _, arg in ipairs(args) do
    full[#full + 1] = arg
  end
  local lines = stream(full, nil)
  local message = last_error(lines)
  if message then
    fail(message)
  end
  return lines
end

local function split_tabs(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

local function file_exists(path)
  local handle = io.open(path, "r")
  if handle then
    handle:close()
    return true
  end
  return false
end

local function same_path(a, b)
  if WINDOWS then
    return a:gsub("/", "\\"):lower() == b:gsub("/", "\\"):lower()
  end
  return a == b
end

-- The current project and timeline, and where their files live.
local function open_session()
  local app = resolve or (Resolve and Resolve())
  if not app then
    fail("run this from DaVinci Resolve's Workspace > Scripts")
  end
  local project = app:GetProjectManager():GetCurrentProject()
  if not project then
    fail("open a project in DaVinci Resolve first")
  end
  local timeline = project:GetCurrentTimeline()
  if not timeline then
    fail("open a timeline in DaVinci Resolve first (Edit page)")
  end
  local paths = split_tabs(bridge({ "prepare", project:GetName(), timeline:GetName() })[1] or "")
  if #paths ~= 3 then
    fail("this install's host bridge gave no project folder; run `vm-editor install-host resolve` again")
  end
  return {
    resolve = app,
    project = project,
    timeline = timeline,
    pool = project:GetMediaPool(),
    folder = paths[1],
    exported = paths[2],
    scored = paths[3],
  }
end

local function rate_of(s)
  local rate = s.timeline:GetSetting("timelineFrameRate")
  if not rate or rate == "" then
    rate = s.project:GetSetting("timelineFrameRate")
  end
  return tostring(rate)
end

local function export(s)
  if not s.timeline:Export(s.exported, s.resolve.EXPORT_OTIO, s.resolve.EXPORT_NONE) then
    fail("Resolve could not export '" .. s.timeline:GetName() .. "' as OTIO to " .. s.exported
      .. " (Resolve 18.5 or later exports OTIO)")
  end
  say("VidMusician: exported " .. s.exported)
end

local function score(s)
  say("VidMusician: scoring (the first run starts the engine)...")
  local args = { "-m", "vm_editor.cli", "score", s.exported, "-o", s.scored, "--force" }
  for _, arg in ipairs(VIDMUSICIAN.score_args or {}) do
    args[#args + 1] = arg
  end
  local lines = stream(args, say)
  local wrote = false
  for _, line in ipairs(lines) do
    if line:match("^wrote ") then
      wrote = true
    end
  end
  local message = last_error(lines)
  if message or not wrote then
    fail(message or "`vm-editor score` stopped before writing the scored timeline (see the lines above)")
  end
end

local function score_track(s)
  local count = tonumber(s.timeline:GetTrackCount("audio")) or 0
  for index = 1, count do
    if s.timeline:GetTrackName("audio", index) == SCORE_TRACK_NAME then
      return index
    end
  end
  if not s.timeline:AddTrack("audio") then
    fail("Resolve refused to add an audio track to '" .. s.timeline:GetName() .. "'")
  end
  local index = tonumber(s.timeline:GetTrackCount("audio"))
  s.timeline:SetTrackName("audio", index, SCORE_TRACK_NAME)
  return index
end

local function score_bin(s)
  local root = s.pool:GetRootFolder()
  for _, folder in ipairs(root:GetSubFolderList() or {}) do
    if folder:GetName() == BIN_NAME then
      return folder
    end
  end
  local folder = s.pool:AddSubFolder(root, BIN_NAME)
  if not folder then
    fail("Resolve refused to add the bin '" .. BIN_NAME .. "' to the media pool")
  end
  return folder
end

local function file_path(item)
  if not item then
    return ""
  end
  return tostring(item:GetClipProperty("File Path") or "")
end

-- The clips on the score track, written for `host_bridge sync`; returns the clips in that order.
local function write_placed(s, track, start, path)
  local items = s.timeline:GetItemListInTrack("audio", track) or {}
  local handle = io.open(path, "w")
  if not handle then
    fail("cannot write " .. path .. "; make " .. s.folder .. " writable")
  end
  for _, item in ipairs(items) do
    local first = tonumber(item:GetStart()) - start
    handle:write(first, "\t", first + tonumber(item:GetDuration()), "\t", file_path(item:GetMediaPoolItem()), "\n")
  end
  handle:close()
  return items
end

local function plan(s, track, start)
  local placed_file = s.scored .. ".placed.tsv"
  local items = write_placed(s, track, start, placed_file)
  local args = { "sync", s.scored, "--rate", rate_of(s), "--start", start, "--placed", placed_file }
  local drop = tostring(s.timeline:GetSetting("timelineDropFrameTimecode") or "0")
  if drop == "1" or drop == "true" or drop == "True" then
    args[#args + 1] = "--drop-frame"
  end
  local lines = bridge(args)
  os.remove(placed_file)
  local remove, place = {}, {}
  for _, line in ipairs(lines) do
    local f = split_tabs(line)
    if f[1] == "remove" then
      remove[#remove + 1] = items[tonumber(f[2])]
    elseif f[1] == "place" then
      place[#place + 1] = {
        cue = f[2], record = tonumber(f[3]), frames = tonumber(f[4]), at = f[5], wav = f[6],
      }
    end
  end
  return remove, place
end

local function import_wavs(s, place)
  local folder = score_bin(s)
  local found = {}
  for _, item in ipairs(folder:GetClipList() or {}) do
    found[#found + 1] = { path = file_path(item), item = item }
  end
  local function lookup(path)
    for _, entry in ipairs(found) do
      if same_path(entry.path, path) then
        return entry.item
      end
    end
    return nil
  end
  local missing = {}
  for _, cue in ipairs(place) do
    if not lookup(cue.wav) then
      missing[#missing + 1] = cue.wav
    end
  end
  if #missing > 0 then
    local previous = s.pool:GetCurrentFolder()
    s.pool:SetCurrentFolder(folder)
    for _, item in ipairs(s.pool:ImportMedia(missing) or {}) do
      found[#found + 1] = { path = file_path(item), item = item }
    end
    if previous then
      s.pool:SetCurrentFolder(previous)
    end
  end
  for _, cue in ipairs(place) do
    cue.item = lookup(cue.wav)
    if not cue.item then
      fail("Resolve could not import " .. cue.wav)
    end
  end
end

local function fill(s)
  local track = score_track(s)
  local start = tonumber(s.timeline:GetStartFrame())
  local remove, place = plan(s, track, start)
  if #remove > 0 and not s.timeline:DeleteClips(remove, false) then
    fail("Resolve refused to remove the earlier takes from the score track")
  end
  if #place > 0 then
    import_wavs(s, place)
    local infos = {}
    for _, cue in ipairs(place) do
      infos[#infos + 1] = {
        mediaPoolItem = cue.item, startFrame = 0, endFrame = cue.frames,
        mediaType = 2, trackIndex = track, recordFrame = cue.record,
      }
    end
    local appended = s.pool:AppendToTimeline(infos)
    local _, missing = plan(s, track, start) -- read back: the known bug returns nothing at times
    if #missing > 0 then
      local said = "returned nothing"
      if appended and #appended > 0 then
        said = "returned " .. #appended .. " of " .. #infos .. " clip(s)"
      end
      say("VidMusician: Resolve's MediaPool.AppendToTimeline " .. said .. " (a known Resolve scripting bug); "
        .. #missing .. " cue(s) are not on the score track. Place them by hand:")
      for _, cue in ipairs(missing) do
        local name = cue.wav:match("([^/\\]+)$")
        say("  cue " .. cue.cue .. ": drag " .. name .. " from the media pool bin '" .. BIN_NAME
          .. "' to audio track " .. track .. " '" .. SCORE_TRACK_NAME .. "' at " .. cue.at
          .. " (" .. cue.frames .. " frames)")
      end
      fail(#missing .. " of " .. #infos .. " cue(s) not placed; drag them from the media pool bin '"
        .. BIN_NAME .. "' as listed above, or run VidMusician Update to try again")
    end
  end
  say("VidMusician: audio track " .. track .. " '" .. SCORE_TRACK_NAME .. "': " .. #place
    .. " cue(s) placed, " .. #remove .. " replaced or removed")
  return { track = track, removed = #remove, placed = #place }
end

local function open_panel(s)
  if not file_exists(s.scored) then
    fail(s.scored .. ": no scored timeline yet; score it first")
  end
  local line = quote(VIDMUSICIAN.python) .. " -m ui " .. quote(s.scored)
  if WINDOWS then
    os.execute('start "" ' .. line)
  else
    os.execute(line .. " >/dev/null 2>&1 &")
  end
end

local function run(action)
  local s = open_session()
  if action == "score" then
    export(s)
    score(s)
    return fill(s)
  elseif action == "update" then
    if not file_exists(s.scored) then
      fail(s.scored .. ": no scored timeline yet; score it first")
    end
    return fill(s)
  elseif action == "panel" then
    open_panel(s)
    return nil
  end
  fail("unknown action '" .. tostring(action) .. "'; one of score, update, panel")
end

local ok, result = pcall(run, VIDMUSICIAN.action)
if not ok then
  local message = type(result) == "table" and result.vidmusician or tostring(result)
  say("VidMusician: error: " .. message)
  VIDMUSICIAN.status = 2
else
  VIDMUSICIAN.status = 0
  VIDMUSICIAN.summary = result
end
