// A panel that throws while rendering shows what broke, with a way to try
// again, instead of blanking the whole window (React unmounts the tree on an
// uncaught render error).
import { Component, type ReactNode } from "react";

type Props = { name: string; retryLabel: string; title: string; children: ReactNode };
type State = { error: Error | null };

export class PanelBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error) {
    console.error(`panel ${this.props.name} failed:`, error);
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div role="alert" className="error-banner" data-testid="panel-error">
        <strong>{this.props.title}</strong>
        <pre className="panel-error-detail">{`${error.name}: ${error.message}`}</pre>
        <button type="button" onClick={() => this.setState({ error: null })}>
          {this.props.retryLabel}
        </button>
      </div>
    );
  }
}
