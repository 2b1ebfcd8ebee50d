import React from 'react';

/**
 * Keeps a feature's failure inside the feature: whatever a task carries, Flex's own view around it still renders.
 * Renders nothing once a child has thrown, and says so once in the console.
 */
export default class ErrorBoundary extends React.Component {
  constructor(props) {
    super(props);
    this.state = { failed: false };
  }

  static getDerivedStateFromError() {
    return { failed: true };
  }

  componentDidCatch(error) {
    console.error(`AiHandoverPlugin: ${this.props.feature} stopped rendering:`, error);
  }

  render() {
    return this.state.failed ? null : this.props.children;
  }
}

/** `Component` inside its own ErrorBoundary, for what a feature adds to Flex. */
export function withErrorBoundary(Component, feature) {
  function Guarded(props) {
    return (
      <ErrorBoundary feature={feature}>
        <Component {...props} />
      </ErrorBoundary>
    );
  }
  Guarded.displayName = `WithErrorBoundary(${Component.displayName || Component.name})`;
  return Guarded;
}
