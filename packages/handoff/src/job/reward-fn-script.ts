import { VERL_VERSION } from "./verl-version.js";

/** Options of {@link renderRewardFunction}. */
export interface RewardFunctionScriptOptions {
  /** Default reward server URL (the `ORBITER_REWARD_URL` environment variable wins). */
  rewardUrl: string | undefined;
  /** `on_reward_error` sent with every request (VeRLConfig `onRewardError`). */
  onRewardError: "zero" | "throw";
  /** Seconds to wait for one answer. */
  timeoutSeconds: number;
  /** Names of the rewards, for the docstring. */
  rewardNames: ReadonlyArray<string>;
}

/**
 * `reward_fn.py`: verl's custom reward function, in Python's standard library only. `compute_score` posts verl's
 * arguments to the reward server's `POST /score` and returns its dict (`score` plus one field per reward);
 * `compute_score_batch` does the same through `POST /score/batch`. A reward error comes back as a
 * `RewardServerError` whose `reward` names the reward.
 */
export function renderRewardFunction(options: RewardFunctionScriptOptions): string {
  const url = JSON.stringify(options.rewardUrl ?? "");
  return `"""verl ${VERL_VERSION.version} reward function written by @orbiter/handoff (Python standard library only).

Scores each response with the TypeScript reward functions served by \`serveRewards\` from @orbiter/handoff
(rewards: ${options.rewardNames.length === 0 ? "see the server" : options.rewardNames.join(", ")}).

Environment:
  ORBITER_REWARD_URL       base URL of the reward server (default: the URL given at export, ${url})
  ORBITER_REWARD_API_KEY   bearer key, when the server was started with one; else the file reward_api_key
                           beside this script is read, if present
  ORBITER_REWARD_TIMEOUT   seconds to wait for one answer (default ${options.timeoutSeconds})
"""

import json
import math
import os
import time
import urllib.error
import urllib.request

ON_REWARD_ERROR = ${JSON.stringify(options.onRewardError)}
_ATTEMPTS = 4


class RewardServerError(RuntimeError):
    """The reward server refused a request or a reward function failed; \`reward\` names it when known."""

    def __init__(self, message, reward=None, status=None):
        super().__init__(message)
        self.reward = reward
        self.status = status


def _url():
    url = os.environ.get("ORBITER_REWARD_URL") or ${url}
    if not url:
        raise RewardServerError("Set ORBITER_REWARD_URL to the reward server's URL (serveRewards(...).url)")
    return url.rstrip("/")


def _api_key():
    key = os.environ.get("ORBITER_REWARD_API_KEY")
    if key:
        return key
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reward_api_key")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return None


def _plain(value):
    """Turns what verl hands over (numpy scalars and arrays, tuples, bytes) into JSON values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(item) for item in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


def _post(path, payload):
    data = json.dumps(_plain(payload), ensure_ascii=False, allow_nan=False).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    key = _api_key()
    if key:
        headers["Authorization"] = "Bearer " + key
    timeout = float(os.environ.get("ORBITER_REWARD_TIMEOUT", "${options.timeoutSeconds}"))
    last = None
    for attempt in range(_ATTEMPTS):
        request = urllib.request.Request(_url() + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")
            try:
                detail = json.loads(body).get("error", {})
            except ValueError:
                detail = {"message": body}
            if error.code in (502, 503) and attempt + 1 < _ATTEMPTS:
                last = error
                time.sleep(0.5 * 2**attempt)
                continue
            raise RewardServerError(
                "reward server: " + str(detail.get("message", error.reason)),
                reward=detail.get("reward"),
                status=error.code,
            ) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last = error
            if attempt + 1 < _ATTEMPTS:
                time.sleep(0.5 * 2**attempt)
    raise RewardServerError("reward server unreachable at " + _url() + ": " + str(last))


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """verl's reward function: returns {"score": total, <reward name>: value, ...} from the reward server."""
    return _post(
        "/score",
        {
            "data_source": data_source,
            "solution_str": solution_str,
            "ground_truth": ground_truth,
            "extra_info": extra_info,
            "on_reward_error": ON_REWARD_ERROR,
        },
    )


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs):
    """verl's batch reward function (reward_manager=batch): one result dict per response."""
    return _post(
        "/score/batch",
        {
            "data_sources": list(data_sources),
            "solution_strs": list(solution_strs),
            "ground_truths": list(ground_truths),
            "extra_infos": None if extra_infos is None else list(extra_infos),
            "on_reward_error": ON_REWARD_ERROR,
        },
    )["results"]
`;
}
