import { TrajectoryItem } from "@orbiter/types";

const N = 200000;
const words =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua".split(
    " ",
  );
function text(i: number, len: number) {
  let s = "";
  let k = i;
  while (s.length < len) {
    s += words[k % words.length] + " ";
    k = (k * 1103515245 + 12345) >>> 0;
  }
  return s.slice(0, len) + i;
}
const inputs = Array.from({ length: N }, (_, i) => ({
  state: text(i, 420),
  action: text(i * 7, 140),
  reward: (i % 100) / 100,
  taskId: "task-" + (i % 1000),
  agentId: "agent-a",
  episodeId: "ep-" + Math.floor(i / 10),
  step: i % 10,
  status: "success",
  metadata: { tool: "search", latencyMs: i % 997, ok: true },
}));
console.log("json bytes", JSON.stringify(TrajectoryItem.parse(inputs[0])).length);
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  const out = [];
  for (const x of inputs) out.push(TrajectoryItem.parse(x));
  let dt = performance.now() - t;
  console.log("zod parse/s", Math.round((N / dt) * 1000));
  t = performance.now();
  let total = 0;
  for (const x of out) total += JSON.stringify(x).length;
  dt = performance.now() - t;
  console.log("stringify/s", Math.round((N / dt) * 1000), total);
  t = performance.now();
  total = 0;
  for (const x of out) {
    const s =
      '{"id":' +
      JSON.stringify(x.id) +
      ',"timestamp":' +
      x.timestamp +
      ',"state":' +
      JSON.stringify(x.state) +
      ',"action":' +
      JSON.stringify(x.action) +
      ',"reward":' +
      x.reward +
      ',"metadata":' +
      JSON.stringify(x.metadata) +
      ',"taskId":' +
      JSON.stringify(x.taskId) +
      ',"agentId":' +
      JSON.stringify(x.agentId) +
      ',"episodeId":' +
      JSON.stringify(x.episodeId) +
      ',"step":' +
      x.step +
      ',"status":' +
      JSON.stringify(x.status) +
      "}";
    total += s.length;
  }
  dt = performance.now() - t;
  console.log("custom/s", Math.round((N / dt) * 1000), total);
  const lines = out.map((x) => JSON.stringify(x));
  t = performance.now();
  for (const l of lines) JSON.parse(l);
  dt = performance.now() - t;
  console.log("parse/s", Math.round((N / dt) * 1000));
}
