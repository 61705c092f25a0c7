export { fieldOf } from "./field-of.js";
export { openAiClient } from "./openai-client.js";
export { captureError, thrownBy } from "./thrown-by.js";
