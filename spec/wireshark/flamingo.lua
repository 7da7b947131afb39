-- Wireshark / tshark dissector for the Flamingo microscope's TCP command port.
-- Packet layout: spec/protocol.md (128-byte little-endian header, then addDataBytes of
-- trailing payload). Command names are read from spec/commands.json next to this folder,
-- so the table has one home. Load it with:
--   tshark -X lua_script:spec/wireshark/flamingo.lua -r capture.pcapng
-- and, for a port other than 53717, add: -d tcp.port==PORT,flamingo

local START_MARKER = 0xF321E654
local END_MARKER = 0xFEDC4321
local HEADER = 128

local function commands_json_path()
  local source = debug.getinfo(1, "S").source
  local dir = source:match("^@(.*)[/\\][^/\\]*$") or "."
  return dir .. "/../commands.json"
end

-- The generated JSON writes "name" then "code" in each command object.
local names = {}
do
  local file = io.open(commands_json_path(), "r")
  if file then
    local text = file:read("*a")
    file:close()
    for name, code in text:gmatch('"name"%s*:%s*"([%w_]+)"%s*,%s*"code"%s*:%s*(%d+)') do
      names[tonumber(code)] = name
    end
  end
end

local proto = Proto("flamingo", "Flamingo microscope control protocol")
local f = {
  start_marker = ProtoField.uint32("flamingo.start_marker", "Start marker", base.HEX),
  command = ProtoField.uint32("flamingo.command", "Command", base.HEX, names),
  status = ProtoField.uint32("flamingo.status", "Status", base.DEC),
  hardware_id = ProtoField.uint32("flamingo.hardware_id", "hardwareId", base.DEC),
  subsystem_id = ProtoField.uint32("flamingo.subsystem_id", "subsystemId", base.DEC),
  client_id = ProtoField.uint32("flamingo.client_id", "clientId", base.DEC),
  int0 = ProtoField.int32("flamingo.int32_data0", "int32Data0", base.DEC),
  int1 = ProtoField.int32("flamingo.int32_data1", "int32Data1", base.DEC),
  int2 = ProtoField.int32("flamingo.int32_data2", "int32Data2", base.DEC),
  flags = ProtoField.uint32("flamingo.cmd_data_bits0", "cmdDataBits0", base.HEX),
  callback = ProtoField.bool("flamingo.trigger_call_back", "TRIGGER_CALL_BACK", 32, nil, 0x80000000),
  value = ProtoField.double("flamingo.value", "value (doubleData)"),
  add_data_bytes = ProtoField.uint32("flamingo.add_data_bytes", "addDataBytes", base.DEC),
  data = ProtoField.stringz("flamingo.data", "data"),
  end_marker = ProtoField.uint32("flamingo.end_marker", "End marker", base.HEX),
  payload = ProtoField.bytes("flamingo.payload", "Trailing payload"),
}
proto.fields = {}
for _, field in pairs(f) do table.insert(proto.fields, field) end

local function dissect_pdu(tvb, pinfo, tree)
  pinfo.cols.protocol = "Flamingo"
  if tvb:len() < HEADER or tvb(0, 4):le_uint() ~= START_MARKER or tvb(124, 4):le_uint() ~= END_MARKER then
    tree:add(proto, tvb(), "Flamingo: bytes that are not a packet (resynchronisation)")
    return tvb:len()
  end
  local code = tvb(4, 4):le_uint()
  local name = names[code] or string.format("UNKNOWN_0x%04X", code)
  local t = tree:add(proto, tvb(), "Flamingo " .. name)
  t:add_le(f.start_marker, tvb(0, 4))
  t:add_le(f.command, tvb(4, 4))
  t:add_le(f.status, tvb(8, 4))
  t:add_le(f.hardware_id, tvb(12, 4))
  t:add_le(f.subsystem_id, tvb(16, 4))
  t:add_le(f.client_id, tvb(20, 4))
  t:add_le(f.int0, tvb(24, 4))
  t:add_le(f.int1, tvb(28, 4))
  t:add_le(f.int2, tvb(32, 4))
  local flags = t:add_le(f.flags, tvb(36, 4))
  flags:add_le(f.callback, tvb(36, 4))
  t:add_le(f.value, tvb(40, 8))
  t:add_le(f.add_data_bytes, tvb(48, 4))
  t:add(f.data, tvb(52, 72))
  t:add_le(f.end_marker, tvb(124, 4))
  local extra = tvb(48, 4):le_uint()
  if extra > 0 then t:add(f.payload, tvb(HEADER, extra)) end
  local info = tostring(pinfo.cols.info)
  if info:find("^Flamingo ") then
    pinfo.cols.info:append(", " .. name)
  else
    pinfo.cols.info = "Flamingo " .. name
  end
  return tvb:len()
end

-- Bytes from `offset` up to the next start marker (or the end): not a packet.
local function garbage_length(tvb, offset)
  for i = offset + 1, tvb:len() - 4 do
    if tvb(i, 4):le_uint() == START_MARKER then return i - offset end
  end
  return tvb:len() - offset
end

-- One TCP segment (or a reassembled run): every whole packet in it, asking TCP for more
-- bytes when a header or its payload is cut off (stream reassembly).
function proto.dissector(tvb, pinfo, tree)
  local len = tvb:len()
  local offset = 0
  while offset < len do
    local remaining = len - offset
    if remaining >= 4 and tvb(offset, 4):le_uint() ~= START_MARKER then
      local n = garbage_length(tvb, offset)
      dissect_pdu(tvb(offset, n):tvb(), pinfo, tree)
      offset = offset + n
    else
      local need = HEADER
      if remaining >= HEADER then need = HEADER + tvb(offset + 48, 4):le_uint() end
      if remaining < need then
        pinfo.desegment_offset = offset
        pinfo.desegment_len = need - remaining
        return len
      end
      dissect_pdu(tvb(offset, need):tvb(), pinfo, tree)
      offset = offset + need
    end
  end
  return len
end

DissectorTable.get("tcp.port"):add(53717, proto)
