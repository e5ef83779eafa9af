"""The models, behind one interface: `backend.inference_backend()` answers query encoding and
reranking in this process or through the GPU workers' queue (VITRINE_REMOTE_INFERENCE);
`loading` loads a model once per process; `encoding` and `reranking` are how each kind of
model reads documents and queries."""
