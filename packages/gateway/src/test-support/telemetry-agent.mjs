// An agent in its own process: the Vercel AI SDK calls the model directly (STUB_URL) with a tool over several
// steps, and exports its telemetry with the OpenTelemetry SDK over OTLP/HTTP (JSON) to the gateway's
// /v1/traces (GATEWAY_URL); then one streamText run. Prints the texts and the trace ids as one JSON line.
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const headers = process.env.GATEWAY_KEY ? { authorization: `Bearer ${process.env.GATEWAY_KEY}` } : {};
const exporter = new OTLPTraceExporter({ url: `${process.env.GATEWAY_URL}/v1/traces`, headers });
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
const tracer = provider.getTracer("telemetry-agent");
const traceIds = [];
// The AI SDK parents its spans through the active context: one generateText is one trace.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const spy = {
  startSpan: (...args) => tracer.startSpan(...args),
  startActiveSpan: (name, options, fn) =>
    tracer.startActiveSpan(name, options, (span) => {
      const { traceId } = span.spanContext();
      if (!traceIds.includes(traceId)) traceIds.push(traceId);
      return fn(span);
    }),
};
const model = createOpenAICompatible({ name: "direct", baseURL: process.env.STUB_URL, apiKey: "k" });
const result = await generateText({
  model: model("stub-small"),
  tools: {
    add: tool({
      description: "Adds two numbers",
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute: async ({ a, b }) => a + b,
    }),
  },
  stopWhen: stepCountIs(5),
  system: "You add numbers.",
  prompt: "What is 2+3, plus 10?",
  temperature: 0.25,
  experimental_telemetry: { isEnabled: true, tracer: spy },
});
// A second run, streamed: its own trace.
const streamed = streamText({
  model: model("stub-small"),
  prompt: "Say something.",
  experimental_telemetry: { isEnabled: true, tracer: spy },
});
let streamedText = "";
for await (const part of streamed.textStream) streamedText += part;
await provider.forceFlush();
await provider.shutdown();
process.stdout.write(`${JSON.stringify({ text: result.text, streamedText, traceIds })}\n`);
