"""The gateway with the official `openai` Python SDK as its client.

Run by `src-tauri/crates/cli/tests/gateway.rs`, which starts the simulator and
`llmaas serve`, creates the tokens and passes them in the environment:

  LLMAAS_GATEWAY_URL            http://127.0.0.1:PORT/v1
  LLMAAS_GATEWAY_TOKEN          a live token
  LLMAAS_GATEWAY_REVOKED_TOKEN  a token that was revoked

The gateway's budget guard is configured (output tokens per hour) so that a
request asking for a huge `max_tokens` is refused with the provider's 429.
"""

import io
import json
import os
import unittest
import wave

import openai
from openai import OpenAI

URL = os.environ.get("LLMAAS_GATEWAY_URL", "")
TOKEN = os.environ.get("LLMAAS_GATEWAY_TOKEN", "")
REVOKED = os.environ.get("LLMAAS_GATEWAY_REVOKED_TOKEN", "")

CHAT_MODEL = "mistral-small4:119b"
RATE_LIMIT_MESSAGE = "Rate limit exceeded. Please upgrade your tier or try again later."
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def client(token=None):
    # No retries: a 429 must reach the test as it came.
    return OpenAI(base_url=URL, api_key=token or TOKEN, max_retries=0, timeout=60)


def silent_wav(seconds=2, rate=8000):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * rate * seconds)
    return buf.getvalue()


@unittest.skipUnless(URL and TOKEN, "LLMAAS_GATEWAY_URL and LLMAAS_GATEWAY_TOKEN are not set")
class GatewayWithOpenAISdk(unittest.TestCase):
    def test_chat(self):
        raw = client().chat.completions.with_raw_response.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "Bonjour"}]
        )
        self.assertEqual(raw.headers.get("x-llmaas-route"), "cloud")
        self.assertTrue(raw.headers.get("x-request-id"))
        self.assertGreater(float(raw.headers.get("x-llmaas-cost-eur")), 0)
        answer = raw.parse()
        self.assertEqual(answer.choices[0].message.content, "Echo: Bonjour")
        self.assertEqual(answer.choices[0].finish_reason, "stop")
        self.assertGreater(answer.usage.total_tokens, 0)

    def test_reasoning(self):
        answer = client().chat.completions.create(
            model="gpt-oss:120b", messages=[{"role": "user", "content": "Salut"}]
        )
        message = answer.choices[0].message
        self.assertEqual(message.content, "Echo: Salut")
        # Not an OpenAI field: the SDK keeps it among the extras.
        self.assertTrue(message.model_extra.get("reasoning_content"))

    def test_streaming(self):
        stream = client().chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "un deux trois"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text, finish, usage = "", None, None
        for chunk in stream:
            if chunk.usage:
                usage = chunk.usage
            for choice in chunk.choices:
                text += choice.delta.content or ""
                finish = choice.finish_reason or finish
        self.assertEqual(text, "Echo: un deux trois")
        self.assertEqual(finish, "stop")
        self.assertIsNotNone(usage)
        self.assertGreater(usage.completion_tokens, 0)

    def test_tool_calls(self):
        messages = [{"role": "user", "content": "Paris"}]
        answer = client().chat.completions.create(
            model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL]
        )
        choice = answer.choices[0]
        self.assertEqual(choice.finish_reason, "tool_calls")
        call = choice.message.tool_calls[0]
        self.assertEqual(call.function.name, "get_weather")
        self.assertIn("city", json.loads(call.function.arguments))
        messages.append(choice.message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "18 degrees"})
        follow = client().chat.completions.create(
            model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL]
        )
        self.assertEqual(follow.choices[0].message.content, "The tool returned: 18 degrees")

        # Streamed: the fragments fold into one call.
        stream = client().chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "Lyon"}],
            tools=[WEATHER_TOOL], stream=True,
        )
        name, args, finish = "", "", None
        for chunk in stream:
            for c in chunk.choices:
                for frag in c.delta.tool_calls or []:
                    self.assertEqual(frag.index, 0)
                    name += (frag.function.name or "") if frag.function else ""
                    args += (frag.function.arguments or "") if frag.function else ""
                finish = c.finish_reason or finish
        self.assertEqual(name, "get_weather")
        self.assertIn("city", json.loads(args))
        self.assertEqual(finish, "tool_calls")

    def test_embeddings(self):
        # The SDK asks for base64 and decodes it itself.
        result = client().embeddings.create(model="granite-embedding:278m", input=["un", "deux"])
        self.assertEqual(len(result.data), 2)
        self.assertEqual([d.index for d in result.data], [0, 1])
        self.assertTrue(all(isinstance(x, float) for x in result.data[0].embedding))
        self.assertGreater(len(result.data[0].embedding), 10)
        floats = client().embeddings.create(
            model="granite-embedding:278m", input="un", encoding_format="float"
        )
        self.assertEqual(
            [round(x, 5) for x in floats.data[0].embedding],
            [round(x, 5) for x in result.data[0].embedding],
        )

    def test_transcription(self):
        result = client().audio.transcriptions.create(
            model="whisper-1", file=("hello.wav", silent_wav(), "audio/wav"), language="fr"
        )
        self.assertIsInstance(result.text, str)

    def test_models(self):
        models = list(client().models.list())
        ids = [m.id for m in models]
        self.assertIn(CHAT_MODEL, ids)
        chat = next(m for m in models if m.id == CHAT_MODEL)
        self.assertEqual(chat.model_extra.get("route_hint"), "cloud")

    def test_unknown_and_revoked_tokens_get_401(self):
        for token in ["llmg_" + "0" * 64, REVOKED]:
            with self.assertRaises(openai.AuthenticationError) as caught:
                client(token).models.list()
            self.assertEqual(caught.exception.status_code, 401)

    def test_the_budget_guard_answers_429(self):
        with self.assertRaises(openai.RateLimitError) as caught:
            client().chat.completions.create(
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": "too much"}],
                max_tokens=1_000_000,
            )
        self.assertEqual(caught.exception.status_code, 429)
        self.assertEqual(caught.exception.body["message"], RATE_LIMIT_MESSAGE)
        self.assertEqual(caught.exception.body["code"], "rate_limit_exceeded")


if __name__ == "__main__":
    unittest.main(verbosity=2)
