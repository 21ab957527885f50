//! OpenSec incident-response environment: seeds, tools, prompt injections, decomposed scoring.
